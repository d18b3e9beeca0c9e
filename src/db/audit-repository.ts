import { and, asc, gt, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import type pg from "pg";
import type { AuditEventInput, ChainHead, StoredAuditEvent } from "../core/audit/audit-event.js";
import { toAuditRecord } from "../core/audit/audit-event.js";
import { canonicalJson } from "../core/audit/canonical-json.js";
import { GENESIS_HASH, hashAuditRecord } from "../core/audit/hash-audit-event.js";
import { clientOf, type Db, poolOf, type Tx, txOnClient } from "./client.js";
import { auditEvents } from "./schema/index.js";

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

/** Several events of one decision, in order: the lock and the head in one round trip, one insert. */
export async function appendAuditEvents(tx: Tx, events: readonly AuditEventInput[]): Promise<ChainHead> {
  const client = clientOf(tx);
  const head = await lockChainHead(client);
  if (events.length === 0) return head;
  const append = auditInsert(client, head, events);
  await client.query(append.statement);
  return append.head;
}

/**
 * Appends the events and commits the transaction open on `client`: two round trips where the
 * lock, the head, the insert and COMMIT took four. For a caller that ends its own transaction (see
 * `rolloutTransaction`); on an error the transaction is left for the caller to roll back.
 */
export async function appendAuditEventsAndCommit(
  client: pg.PoolClient,
  events: readonly AuditEventInput[],
): Promise<void> {
  if (events.length === 0) {
    await client.query("COMMIT");
    return;
  }
  const append = auditInsert(client, await lockChainHead(client), events);
  await client.query(`${append.statement};\nCOMMIT`);
}

/**
 * Runs `fn` as one transaction on a pooled connection, like `db.transaction`, for a decision that
 * records audit events: the events `fn` returns are appended and the transaction committed in two
 * round trips (see `appendAuditEventsAndCommit`), and the chain's lock is held only for those.
 * `opening` statements (no parameters) travel with BEGIN, each with its own snapshot; `fn` gets
 * their results. Rolls back when `fn` or the commit throws.
 */
export async function auditedTransaction<T>(
  db: Db,
  opening: readonly string[],
  fn: (
    tx: Tx,
    opened: ReadonlyArray<{ rows: Array<Record<string, unknown>> }>,
  ) => Promise<{ value: T; audits: readonly AuditEventInput[] }>,
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
    const results = (await client
      .query(["BEGIN", ...opening].join("; "))
      .catch(rollBack)) as unknown as Array<{ rows: Array<Record<string, unknown>> }>;
    // A throw before `fn` returns its promise rolls back too.
    const done = await Promise.resolve()
      .then(() => fn(txOnClient(client), opening.length > 0 ? results.slice(1) : []))
      .catch(rollBack);
    await appendAuditEventsAndCommit(client, done.audits).catch(rollBack);
    return done.value;
  } finally {
    client.release(broken);
  }
}

/**
 * Takes the chain's lock, then reads its head: one simple query of two statements, the second
 * with its own snapshot taken once the lock is held (READ COMMITTED), so it sees every row
 * committed before the lock was granted. No parameters: the only value is the constant key.
 */
async function lockChainHead(client: pg.PoolClient): Promise<ChainHead> {
  const results = (await client.query(
    `SELECT pg_advisory_xact_lock(${AUDIT_APPEND_LOCK_KEY}::bigint); ${CHAIN_HEAD}`,
  )) as unknown as Array<{ rows: Array<{ seq: string; hash: string }> }>;
  return headOf(results[1]?.rows[0]);
}

/**
 * The INSERT of the events after `head`, its values as literals (escaped by the driver, so the
 * statement can travel with others in one simple query), and the chain's new head.
 */
function auditInsert(
  client: pg.PoolClient,
  head: ChainHead,
  events: readonly AuditEventInput[],
): { statement: string; head: ChainHead } {
  const text = (s: string | null) => {
    if (s !== null && typeof s !== "string") throw new Error(`audit value ${String(s)} is not text`);
    return s === null ? "NULL" : client.escapeLiteral(s);
  };
  let at = head;
  const rows = events.map((event) => {
    const record = toAuditRecord(at.seq + 1, event);
    if (!Number.isSafeInteger(record.seq)) throw new Error(`audit seq ${record.seq} is not an integer`);
    const hash = hashAuditRecord(at.hash, record);
    // The JSON stored is the very text that was hashed, so what is stored cannot drift from it.
    const row = `(${record.seq}, ${text(record.at.toISOString())}::timestamptz, ${text(record.actorId)}, ${text(record.actorName)},
      ${text(record.action)}, ${text(record.outcome)}, ${text(canonicalJson(record.origin))}::jsonb,
      ${text(canonicalJson(record.resource))}::jsonb, ${text(canonicalJson(record.payload))}::jsonb, ${text(at.hash)}, ${text(hash)})`;
    at = { seq: record.seq, hash };
    return row;
  });
  const statement = `INSERT INTO audit_events
      (seq, at, actor_id, actor_name, action, outcome, origin, resource, payload, prev_hash, hash)
    VALUES ${rows.join(", ")}`;
  return { statement, head: at };
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
