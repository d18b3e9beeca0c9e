import { createHash } from "node:crypto";
import { type AuditEventInput, type AuditRecord, toAuditRecord } from "./audit-event.js";
import { canonicalJson } from "./canonical-json.js";

/** The `prevHash` of seq 1, and the head of an empty trail (seq 0). */
export const GENESIS_HASH = "0".repeat(64);

/**
 * sha256 hex of `prevHash + "\n" + canonicalJson({seq, at, actorId, actorName, action, outcome,
 * origin, resource, payload})`, `at` as an ISO 8601 UTC string with milliseconds. Changing this
 * format makes every existing trail fail verification.
 */
export function hashAuditEvent(prevHash: string, seq: number, event: AuditEventInput): string {
  return hashAuditRecord(prevHash, toAuditRecord(seq, event));
}

export function hashAuditRecord(prevHash: string, record: AuditRecord): string {
  return createHash("sha256")
    .update(`${prevHash}\n${canonicalUpToSeq(record)}${record.seq}}`, "utf8")
    .digest("hex");
}

/**
 * The canonical JSON of the hashed fields up to and including `"seq":`: `seq` sorts last, so the
 * text hashed is this, the seq's digits and `}`. Postgres completes it when it appends a row (see
 * `db/audit-repository.ts`), which is why the seq must be a whole number.
 */
export function canonicalUpToSeq(record: AuditRecord): string {
  if (!(record.at instanceof Date) || Number.isNaN(record.at.getTime())) {
    throw new TypeError(`audit event seq ${record.seq} has an invalid date`);
  }
  if (!Number.isSafeInteger(record.seq)) throw new TypeError(`audit seq ${record.seq} is not an integer`);
  const body = canonicalJson({
    at: record.at.toISOString(),
    actorId: record.actorId,
    actorName: record.actorName,
    action: record.action,
    outcome: record.outcome,
    origin: record.origin,
    resource: record.resource,
    payload: record.payload,
  });
  return `${body.slice(0, -1)},"seq":`;
}
