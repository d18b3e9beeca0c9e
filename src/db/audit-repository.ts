import { and, asc, gt, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import type pg from "pg";
import type { AuditEventInput, ChainHead, StoredAuditEvent } from "../core/audit/audit-event.js";
import { toAuditRecord } from "../core/audit/audit-event.js";
import { canonicalJson } from "../core/audit/canonical-json.js";
import { canonicalUpToSeq, GENESIS_HASH } from "../core/audit/hash-audit-event.js";
import { clientOf, type Db, poolOf, type Tx, txOnClient } from "./client.js";
import { auditEvents } from "./schema/index.js";
import { type Rows, type Statement, sendTogether } from "./statements.js";

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

/**
 * Several events of one decision, in order, in one round trip: the chain's lock, then one INSERT
 * that reads the head and computes each row's hash in Postgres (see `auditAppend`).
 */
export async function appendAuditEvents(tx: Tx, events: readonly AuditEventInput[]): Promise<ChainHead> {
  const results = await sendTogether(clientOf(tx), auditAppend(events));
  return headOf(results[1]?.at(-1) as { seq: string; hash: string } | undefined);
}

/** A statement sent with a transaction's audit events and COMMIT; `read` gets its rows once committed. */
export type ClosingStatement = Statement & { read?: (rows: Rows) => void };

/**
 * Sends the `closing` statements, appends the events and commits the transaction open on
 * `client`, all in one round trip. For a caller that ends its own transaction (see
 * `auditedTransaction`); on an error the transaction is left for the caller to roll back.
 */
export async function appendAuditEventsAndCommit(
  client: pg.PoolClient,
  events: readonly AuditEventInput[],
  closing: readonly ClosingStatement[] = [],
): Promise<void> {
  const results = await sendTogether(client, [
    ...closing,
    ...(events.length > 0 ? auditAppend(events) : []),
    "COMMIT",
  ]);
  for (const [i, c] of closing.entries()) c.read?.(results[i] ?? []);
}

/**
 * Runs `fn` as one transaction on a pooled connection, like `db.transaction`, for a decision that
 * records audit events: the `closing` statements and the events `fn` returns are sent with the
 * COMMIT in one round trip (see `appendAuditEventsAndCommit`), and the chain's lock is held only
 * for it. `opening` statements travel with BEGIN, each with its own snapshot; `fn` gets their rows.
 * Rolls back when `fn` or the commit throws.
 */
export async function auditedTransaction<T>(
  db: Db,
  opening: readonly Statement[],
  fn: (
    tx: Tx,
    opened: readonly Rows[],
  ) => Promise<{ value: T; audits: readonly AuditEventInput[]; closing?: readonly ClosingStatement[] }>,
): Promise<T> {
  const client = await poolOf(db).connect();
  let broken: Error | undefined;
  const rollBack = async (e: unknown): Promise<never> => {
    // A failed COMMIT has ended the transaction; a lost connection has not answered at all.
    await client.query("ROLLBACK").catch((r: Error) => {
      broken = r;
    });
    throw e;
  };
  try {
    const results = await sendTogether(client, ["BEGIN", ...opening]).catch(rollBack);
    // A throw before `fn` returns its promise rolls back too.
    const done = await Promise.resolve()
      .then(() => fn(txOnClient(client), results.slice(1)))
      .catch(rollBack);
    await appendAuditEventsAndCommit(client, done.audits, done.closing).catch(rollBack);
    return done.value;
  } finally {
    client.release(broken);
  }
}

const LOCK: Statement = { text: "SELECT pg_advisory_xact_lock($1::bigint)", values: [AUDIT_APPEND_LOCK_KEY] };

/**
 * The chain's lock, then the INSERT of the events after the head (or, with no events, the head),
 * sent together: the second takes its snapshot once the lock is held (READ COMMITTED), so it sees
 * every row committed before. Postgres computes each hash as `hashAuditRecord` does (the canonical
 * JSON's last key is `seq`, so the text hashed is the event's canonical JSON up to `"seq":`, then
 * the seq and `}`), so no round trip is spent fetching the head and the lock is held for one
 * statement and the COMMIT. The JSON stored is the very text hashed.
 */
function auditAppend(events: readonly AuditEventInput[]): Statement[] {
  if (events.length === 0) return [LOCK, { text: CHAIN_HEAD, values: [] }];
  const values: unknown[] = [];
  const v = (value: string | null) => {
    // A value that is not text would be stored as its text and fail verification from then on.
    if (value !== null && typeof value !== "string")
      throw new Error(`audit value ${String(value)} is not text`);
    values.push(value);
    return `$${values.length}`;
  };
  const rows = events.map((event, i) => {
    // The seq is Postgres's to add; what JSON cannot carry, or an invalid date, is refused here.
    const record = toAuditRecord(0, event);
    const upToSeq = canonicalUpToSeq(record);
    return `(${i + 1}::int, ${v(record.at.toISOString())}::timestamptz, ${v(record.actorId)}::text,
      ${v(record.actorName)}::text, ${v(record.action)}::text, ${v(record.outcome)}::text,
      ${v(canonicalJson(record.origin))}::jsonb, ${v(canonicalJson(record.resource))}::jsonb,
      ${v(canonicalJson(record.payload))}::jsonb, ${v(upToSeq)}::text)`;
  });
  const append = `WITH RECURSIVE ev(n, at, actor_id, actor_name, action, outcome, origin, resource, payload, up_to_seq) AS (
      VALUES ${rows.join(", ")}),
    head AS (
      SELECT seq, hash FROM (${CHAIN_HEAD}) last UNION ALL SELECT 0, ${v(GENESIS_HASH)}::text ORDER BY seq DESC LIMIT 1),
    chain(n, seq, prev_hash, hash) AS (
      SELECT 0, seq, NULL::text, hash FROM head
      UNION ALL
      SELECT c.n + 1, c.seq + 1, c.hash,
        encode(sha256(convert_to(c.hash || chr(10) || e.up_to_seq || (c.seq + 1)::text || '}', 'UTF8')), 'hex')
      FROM chain c JOIN ev e ON e.n = c.n + 1)
    INSERT INTO audit_events
      (seq, at, actor_id, actor_name, action, outcome, origin, resource, payload, prev_hash, hash)
    SELECT c.seq, e.at, e.actor_id, e.actor_name, e.action, e.outcome, e.origin, e.resource, e.payload,
      c.prev_hash, c.hash
    FROM chain c JOIN ev e ON e.n = c.n ORDER BY c.n
    RETURNING seq, hash`;
  return [LOCK, { text: append, values }];
}

const CHAIN_HEAD = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1";
const headOf = (row: { seq: string; hash: string } | undefined): ChainHead =>
  row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };

/** The last row's seq and hash; seq 0 and the genesis hash when the trail is empty. */
export async function readChainHead(db: Db | Tx): Promise<ChainHead> {
  const r = await db.execute<{ seq: string; hash: string }>(sql.raw(CHAIN_HEAD));
  return headOf(r.rows[0]);
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
