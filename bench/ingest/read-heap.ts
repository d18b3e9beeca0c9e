export type HeapFigures = { usedBytes: number; totalBytes: number; externalBytes: number };

const METRIC = {
  usedBytes: "patchpilot_nodejs_heap_size_used_bytes",
  totalBytes: "patchpilot_nodejs_heap_size_total_bytes",
  externalBytes: "patchpilot_nodejs_external_memory_bytes",
} as const;

/**
 * The service's V8 heap as its /metrics reports it: with RSS, this tells memory the JavaScript
 * heap holds (live or awaiting collection) from memory held outside it. Null when unavailable.
 */
export async function readHeap(baseUrl: string): Promise<HeapFigures | null> {
  let text: string;
  try {
    const res = await fetch(`${baseUrl}/metrics`);
    if (!res.ok) return null;
    text = await res.text();
  } catch {
    return null;
  }
  const value = (name: string) => {
    const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?(?:e\\+?\\d+)?)$`, "m").exec(text);
    return m?.[1] ? Number(m[1]) : null;
  };
  const usedBytes = value(METRIC.usedBytes);
  const totalBytes = value(METRIC.totalBytes);
  const externalBytes = value(METRIC.externalBytes);
  if (usedBytes === null || totalBytes === null || externalBytes === null) return null;
  return { usedBytes, totalBytes, externalBytes };
}
