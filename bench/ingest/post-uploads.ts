import { z } from "zod";
import type { Upload } from "./build-uploads.js";

export type PostOutcome = {
  wallMs: number;
  /** Per completed upload, request start to the last byte of the answer. */
  latenciesMs: number[];
  storedFindings: number;
  completed: number;
  /** Uploads never sent because the time cap was reached. */
  skipped: number;
  errors: string[];
  diff: { new: number; fixed: number; unchanged: number };
};

const answer = z.object({
  findings: z.number(),
  diff: z.object({ new: z.number(), fixed: z.number(), unchanged: z.number() }),
});

/**
 * Posts every upload over loopback HTTP with at most `concurrency` in flight (no pipelining: a
 * CI job sends one report per request), stopping new sends once `deadline` (performance.now()) passes.
 */
export async function postUploads(
  url: string,
  token: string,
  uploads: readonly Upload[],
  opts: { concurrency: number; deadline: number },
): Promise<PostOutcome> {
  const out: PostOutcome = {
    wallMs: 0,
    latenciesMs: [],
    storedFindings: 0,
    completed: 0,
    skipped: 0,
    errors: [],
    diff: { new: 0, fixed: 0, unchanged: 0 },
  };
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < uploads.length; i = next++) {
      const u = uploads[i];
      if (!u) break;
      if (performance.now() > opts.deadline) {
        out.skipped++;
        continue;
      }
      const t0 = performance.now();
      try {
        const res = await fetch(url, {
          method: "POST",
          body: u.body,
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        });
        const text = await res.text();
        out.latenciesMs.push(performance.now() - t0);
        const parsed = answer.safeParse(safeJson(text));
        if (res.status !== 201 || !parsed.success) {
          out.errors.push(`${u.repository}: HTTP ${res.status} ${text.slice(0, 300)}`);
          continue;
        }
        if (parsed.data.findings !== u.findings)
          out.errors.push(`${u.repository}: stored ${parsed.data.findings} findings, sent ${u.findings}`);
        out.completed++;
        out.storedFindings += parsed.data.findings;
        out.diff.new += parsed.data.diff.new;
        out.diff.fixed += parsed.data.diff.fixed;
        out.diff.unchanged += parsed.data.diff.unchanged;
      } catch (e) {
        out.errors.push(`${u.repository}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  out.wallMs = performance.now() - start;
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
