import type { ChainHead, StoredAuditEvent } from "./audit-event.js";

export type AuditExportFormat = "jsonl" | "csv";

const CSV_COLUMNS = [
  "seq",
  "at",
  "actor_id",
  "actor_name",
  "action",
  "outcome",
  "origin",
  "resource",
  "payload",
  "prev_hash",
  "hash",
] as const;

/** The first line of an export, if the format has one (each line ends with "\n"). */
export function formatAuditHeader(format: AuditExportFormat): string {
  return format === "csv" ? `${CSV_COLUMNS.join(",")}\n` : "";
}

/**
 * One row as one line. A jsonl line without `prevHash` and `hash`, in canonical JSON, is exactly
 * what `hash` covers, so an auditor can re-verify an export with any RFC 8785 library.
 */
export function formatAuditRow(row: StoredAuditEvent, format: AuditExportFormat): string {
  const at = row.at.toISOString();
  if (format === "jsonl") {
    const { seq, actorId, actorName, action, outcome, origin, resource, payload, prevHash, hash } = row;
    return `${JSON.stringify({ seq, at, actorId, actorName, action, outcome, origin, resource, payload, prevHash, hash })}\n`;
  }
  const fields = [
    String(row.seq),
    at,
    row.actorId,
    row.actorName,
    row.action,
    row.outcome,
    JSON.stringify(row.origin),
    JSON.stringify(row.resource),
    JSON.stringify(row.payload),
    row.prevHash,
    row.hash,
  ];
  return `${fields.map(csvField).join(",")}\n`;
}

/** The last line: the head an auditor keeps to prove later that no row was cut off the end. */
export function formatChainHead(head: ChainHead, format: AuditExportFormat): string {
  return format === "jsonl"
    ? `${JSON.stringify({ chainHead: { seq: head.seq, hash: head.hash } })}\n`
    : `# chain-head,${head.seq},${head.hash}\n`;
}

/**
 * RFC 4180 quoting. As in Postgres' CSV COPY, null is an empty field and the empty string is `""`,
 * so the two stay distinguishable.
 */
export function csvField(value: string | null): string {
  if (value === null) return "";
  return value === "" || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
