import { and, asc, gt, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import type { AuditEventInput, ChainHead, StoredAuditEvent } from "../core/audit/audit-event.js";
import { toAuditRecord } from "../core/audit/audit-event.js";
import { canonicalJson } from "../core/audit/canonical-json.js";
import { GENESIS_HASH, hashAuditRecord } from "../core/audit/hash-audit-event.js";
import type { Db } from "./client.js";
import { auditEvents } from "./schema/index.js";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

// An arbitrary constant shared by every patchpilot process: the key that serializes appends.
const AUDIT_APPEND_LOCK_KEY = 7_310_445_201;

/**
 * Appends one event to the hash chain inside the caller's transaction, so the row commits or
 * rolls back with the decision it records. A transaction-scoped advisory lock makes concurrent
 * appenders take turns, so the chain never forks; the lock is held until the caller commits, so
 * append last, just before committing. The caller's transaction must be READ COMMITTED (the
 * default): an older snapshot would miss the latest row and fail on the duplicate seq.
 */
export async function appendAuditEvent(tx: Tx, event: AuditEventInput): Promise<ChainHead> {
  return appendAuditEvents(tx, [event]);
}

/** Several events of one decision, in order: one lock, one read of the head, one insert. */
export async function appendAuditEvents(tx: Tx, events: readonly AuditEventInput[]): Promise<ChainHead> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${AUDIT_APPEND_LOCK_KEY}::bigint)`);
  let head = await readChainHead(tx);
  if (events.length === 0) return head;
  const rows = events.map((event) => {
    const record = toAuditRecord(head.seq + 1, event);
    const hash = hashAuditRecord(head.hash, record);
    // The JSON stored is the very text that was hashed, so what is stored cannot drift from it.
    const row = sql`(${record.seq}, ${record.at.toISOString()}::timestamptz, ${record.actorId}, ${record.actorName},
      ${record.action}, ${record.outcome}, ${canonicalJson(record.origin)}::jsonb,
      ${canonicalJson(record.resource)}::jsonb, ${canonicalJson(record.payload)}::jsonb, ${head.hash}, ${hash})`;
    head = { seq: record.seq, hash };
    return row;
  });
  // A fixed text per number of events (every decision appends here), not a query built per call.
  await tx.execute(sql`
    INSERT INTO audit_events
      (seq, at, actor_id, actor_name, action, outcome, origin, resource, payload, prev_hash, hash)
    VALUES ${sql.join(rows, sql`, `)}`);
  return head;
}

/** The last row's seq and hash; seq 0 and the genesis hash when the trail is empty. */
export async function readChainHead(db: Db | Tx): Promise<ChainHead> {
  // Read in every decision's transaction: a fixed text, not a query built each time.
  const r = await db.execute<{ seq: string; hash: string }>(
    sql`SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`,
  );
  const row = r.rows[0];
  return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
}

export type AuditPage = {
  /** `at` from this instant on (inclusive). */
  from?: Date;
  /** `at` before this instant (exclusive). */
  to?: Date;
  afterSeq?: number;
  throughSeq?: number;
  limit: number;
};

/** One page of the trail in seq order; pass the last seq as `afterSeq` for the next page. */
export async function readAuditEvents(db: Db, page: AuditPage): Promise<StoredAuditEvent[]> {
  const where: SQL[] = [];
  if (page.afterSeq !== undefined) where.push(gt(auditEvents.seq, page.afterSeq));
  if (page.throughSeq !== undefined) where.push(lte(auditEvents.seq, page.throughSeq));
  if (page.from) where.push(gte(auditEvents.at, page.from));
  if (page.to) where.push(lt(auditEvents.at, page.to));
  return db
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(asc(auditEvents.seq))
    .limit(page.limit);
}
