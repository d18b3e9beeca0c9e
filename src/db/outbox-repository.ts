import { and, asc, eq, inArray, lte, type SQL, sql } from "drizzle-orm";
import type { ClosingStatement } from "./audit-repository.js";
import { type Db, poolOf, type Tx, txOnClient } from "./client.js";
import { outbox } from "./schema/index.js";
import { type Rows, type Statement, sendTogether, statementOf } from "./statements.js";

export type OutboxIntent = {
  kind: string;
  dedupeKey: string;
  payload: Record<string, unknown>;
  /** Not delivered before this time (an aggregation window); now when absent. */
  availableAt?: Date;
};
export type OutboxRow = typeof outbox.$inferSelect;
type Executor = Db | Tx;

/** Records a side-effect intent; the same dedupe key twice is one intent. Returns its id. */
export async function insertIntent(db: Executor, intent: OutboxIntent): Promise<number> {
  const [id] = await insertIntents(db, [intent]);
  if (id === undefined) throw new Error(`outbox intent ${intent.dedupeKey} was not recorded`);
  return id;
}

/**
 * Records several intents in one statement (a digest's messages, a decision's card and dispatch);
 * returns their ids in the order given. A dedupe key already recorded, or given twice, keeps its
 * first intent and returns that intent's id.
 */
export async function insertIntents(db: Executor, intents: readonly OutboxIntent[]): Promise<number[]> {
  if (intents.length === 0) return [];
  const found = await db.execute<IntentRow>(intentsInsert(intents));
  return idsOfIntents(db, intents, found.rows);
}

type IntentRow = { id: string | number; dedupe_key: string };

/**
 * The statement of `insertIntents` (non-empty `intents`), for a caller that sends it with others;
 * give its rows to `idsOfIntents`. It returns the inserted rows, and those already recorded under
 * the same keys as of the statement's start. One committed by another transaction meanwhile (its
 * insert made ours wait) is after that snapshot: `idsOfIntents` reads it.
 */
function intentsInsert(intents: readonly OutboxIntent[]): SQL {
  return sql`
    WITH v(n, kind, dedupe_key, payload, available_at) AS (VALUES ${intentValues(intents)}),
    ins AS (
      INSERT INTO outbox (kind, dedupe_key, payload, available_at)
      SELECT kind, dedupe_key, payload, coalesce(available_at, now()) FROM v ORDER BY n
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id, dedupe_key)
    SELECT id, dedupe_key FROM ins
    UNION ALL
    SELECT o.id, o.dedupe_key FROM outbox o
     WHERE o.dedupe_key IN (SELECT dedupe_key FROM v)
       AND NOT EXISTS (SELECT 1 FROM ins WHERE ins.dedupe_key = o.dedupe_key)`;
}

/**
 * Intents recorded by a statement that travels with the transaction's COMMIT (see
 * `auditedTransaction`): `closing` to send, and `ids` to read once the transaction has committed.
 */
export function intentsAtCommit(intents: readonly OutboxIntent[]): {
  closing: ClosingStatement[];
  ids(db: Executor): Promise<number[]>;
} {
  let rows: readonly Record<string, unknown>[] | null = null;
  return {
    closing:
      intents.length === 0
        ? []
        : [
            {
              ...statementOf(intentsInsert(intents)),
              read: (r) => {
                rows = r;
              },
            },
          ],
    ids: async (db) => {
      if (intents.length === 0) return [];
      if (rows === null) throw new Error("the intents' statement was not sent with the COMMIT");
      return idsOfIntents(db, intents, rows);
    },
  };
}

/** The ids of `intents` in the order given, from the rows of `intentsInsert` (and a read of any missing). */
async function idsOfIntents(
  db: Executor,
  intents: readonly OutboxIntent[],
  rows: readonly Record<string, unknown>[],
): Promise<number[]> {
  const ids = new Map((rows as IntentRow[]).map((r) => [r.dedupe_key, Number(r.id)]));
  const missing = [...new Set(intents.map((i) => i.dedupeKey).filter((k) => !ids.has(k)))];
  if (missing.length > 0) {
    const existing = await db
      .select({ id: outbox.id, dedupeKey: outbox.dedupeKey })
      .from(outbox)
      .where(inArray(outbox.dedupeKey, missing));
    for (const r of existing) ids.set(r.dedupeKey, r.id);
  }
  return intents.map((i) => {
    const id = ids.get(i.dedupeKey);
    if (id === undefined) throw new Error(`outbox intent ${i.dedupeKey} vanished`);
    return id;
  });
}

/** Intents as the rows of a VALUES list: (n, kind, dedupe_key, payload, available_at). */
function intentValues(intents: readonly OutboxIntent[]): SQL {
  return sql.join(
    intents.map(
      (i, n) =>
        sql`(${n}::int, ${i.kind}, ${i.dedupeKey}, ${JSON.stringify(i.payload)}::jsonb, ${i.availableAt ?? null}::timestamptz)`,
    ),
    sql`, `,
  );
}

/**
 * Records intents only if `guard` — an `INSERT … ON CONFLICT DO NOTHING RETURNING` — inserts its
 * row, in one statement (a digest period's run and its messages: a period already posted records
 * nothing). Returns the ids of the intents it inserted, in the order given; none when the guard's
 * row was there already.
 */
export async function insertIntentsIfNew(
  db: Executor,
  guard: SQL,
  intents: readonly OutboxIntent[],
): Promise<number[]> {
  if (intents.length === 0) return [];
  const values = intentValues(intents);
  const inserted = await db.execute<{ id: string | number; dedupe_key: string }>(sql`
    WITH guard AS (${guard})
    INSERT INTO outbox (kind, dedupe_key, payload, available_at)
    SELECT v.kind, v.dedupe_key, v.payload, coalesce(v.available_at, now())
      FROM (VALUES ${values}) AS v(n, kind, dedupe_key, payload, available_at)
     WHERE EXISTS (SELECT 1 FROM guard)
     ORDER BY v.n
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, dedupe_key`);
  const ids = new Map(inserted.rows.map((r) => [r.dedupe_key, Number(r.id)]));
  return intents.flatMap((i) => {
    const id = ids.get(i.dedupeKey);
    if (id === undefined) return [];
    ids.delete(i.dedupeKey);
    return [id];
  });
}

/**
 * Pending intents due by the database's clock, in order; with the Slack channel of those of
 * `channelKinds` (paced per channel), which are listed once due or recorded `settledMs` ago.
 */
export async function listPendingIntents(
  db: Db,
  limit: number,
  opts: { settledMs?: number; channelKinds?: readonly string[] } = {},
): Promise<Array<{ id: number; channel: string | null }>> {
  const kinds = opts.channelKinds ?? [];
  // Due by the database's clock, like `readIntent`; a not-yet-due intent is queued when due.
  const rows = await db
    .select({
      id: outbox.id,
      channel: kinds.length
        ? sql<
            string | null
          >`CASE WHEN ${inArray(outbox.kind, [...kinds])} THEN ${outbox.payload}->>'channel' END`
        : sql<null>`NULL`,
    })
    .from(outbox)
    .where(
      and(
        eq(outbox.status, "pending"),
        lte(outbox.availableAt, sql`now()`),
        // Only a channel's messages wait to settle: their first job has another id than the
        // one re-queued here, so the two could race; every other kind is re-queued under its own id.
        kinds.length
          ? sql`(NOT ${inArray(outbox.kind, [...kinds])} OR greatest(${outbox.createdAt}, ${outbox.availableAt}) <= now() - make_interval(secs => ${(opts.settledMs ?? 0) / 1000}))`
          : undefined,
      ),
    )
    .orderBy(asc(outbox.id))
    .limit(limit);
  return rows.map((r) => ({ id: r.id, channel: r.channel ?? null }));
}

export type DueIntent = OutboxRow & { dueInMs: number };

/**
 * The intents, and how long until each is due by the database's clock: the same clock that
 * stamps `available_at` by default, so an intent is never held back by a skew between the two.
 * One statement for all of them (a channel's messages).
 */
export async function readIntents(db: Db, ids: readonly number[]): Promise<Map<number, DueIntent>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({
      row: outbox,
      dueInMs: sql<number>`greatest(0, floor(extract(epoch FROM ${outbox.availableAt} - now()) * 1000))::float8`,
    })
    .from(outbox)
    .where(inArray(outbox.id, [...ids]));
  return new Map(rows.map((r) => [r.row.id, { ...r.row, dueInMs: Number(r.dueInMs) }]));
}

export async function readIntent(db: Db, id: number): Promise<DueIntent | null> {
  return (await readIntents(db, [id])).get(id) ?? null;
}

/**
 * What an effect is given besides its intent: the transaction that holds the intent's lock, so
 * what it records (the Slack message's ts, say) commits with the done-mark or not at all.
 */
export type IntentTx = {
  tx: Tx;
  /**
   * An earlier try at this intent may have had its effect without recording it: one failed
   * (`attempts` > 0), or, as the caller says, the worker running it may have died mid-effect.
   */
  mayHaveActed: boolean;
  /** The rows of `performIntent`'s `alsoRead`, read in the transaction's opening round trip. */
  alsoRead?: Rows | undefined;
  /** A statement to send with the done-mark: one round trip for both. */
  withDoneMark(statement: Statement): void;
};

/**
 * Runs `effect` for a pending intent while holding its row lock, then marks it done in the same
 * transaction. A second worker skips a locked row instead of repeating the effect. Every
 * delivery passes here, so it takes two round trips besides the effect's own: the transaction
 * opens with the lock (and `alsoRead`, a read the effect needs, after it), and the done-mark
 * carries the effect's own writes and the commit.
 *
 * The locking read also asks how long until the intent is due by the database's clock (as
 * `readIntent` does), so a delivery needs no read before it: an intent not yet due is let go
 * again, with no effect and no attempt spent, and `{ dueInMs }` comes back.
 */
export async function performIntent(
  db: Db,
  id: number,
  effect: (row: OutboxRow, intent: IntentTx) => Promise<Record<string, unknown>>,
  opts: { alsoRead?: Statement | undefined; mayHaveActed?: boolean } = {},
): Promise<"done" | "skipped" | { dueInMs: number }> {
  const client = await poolOf(db).connect();
  let open = false;
  let broken: Error | undefined;
  try {
    open = true;
    const results = await sendTogether(client, [
      "BEGIN",
      {
        text: `SELECT ${OUTBOX_COLUMNS}, ${DUE_IN_MS} AS due_in_ms FROM outbox WHERE id = $1 AND status = 'pending' FOR UPDATE SKIP LOCKED`,
        values: [id],
      },
      ...(opts.alsoRead ? [opts.alsoRead] : []),
    ]);
    const raw = results[1]?.[0] as (RawOutboxRow & { due_in_ms?: number }) | undefined;
    const dueInMs = Number(raw?.due_in_ms ?? 0);
    if (!raw || dueInMs > 0) {
      await client.query("ROLLBACK");
      open = false;
      return raw ? { dueInMs } : "skipped";
    }
    const withDoneMark: Statement[] = [];
    const result = await effect(fromRaw(raw), {
      tx: txOnClient(client),
      mayHaveActed: raw.attempts > 0 || opts.mayHaveActed === true,
      alsoRead: opts.alsoRead ? results[2] : undefined,
      withDoneMark: (statement) => withDoneMark.push(statement),
    });
    await sendTogether(client, [
      ...withDoneMark,
      {
        text: "UPDATE outbox SET status = 'done', done_at = now(), attempts = attempts + 1, last_error = NULL, result = $1::jsonb WHERE id = $2",
        values: [JSON.stringify(result), id],
      },
      "COMMIT",
    ]);
    open = false;
    return "done";
  } catch (e) {
    if (open)
      await client.query("ROLLBACK").catch((r: Error) => {
        broken = r;
      });
    throw e;
  } finally {
    client.release(broken);
  }
}

// How long until an intent is due by the database's clock, in whole ms (0 when due).
const DUE_IN_MS = "greatest(0, floor(extract(epoch FROM available_at - now()) * 1000))::float8";

const OUTBOX_COLUMNS =
  "id, kind, dedupe_key, payload, status, attempts, available_at, created_at, done_at, last_error, result";
type RawOutboxRow = {
  id: string;
  kind: string;
  dedupe_key: string;
  payload: unknown;
  status: string;
  attempts: number;
  available_at: Date;
  created_at: Date;
  done_at: Date | null;
  last_error: string | null;
  result: unknown;
};
const fromRaw = (r: RawOutboxRow): OutboxRow => ({
  id: Number(r.id),
  kind: r.kind,
  dedupeKey: r.dedupe_key,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  availableAt: r.available_at,
  createdAt: r.created_at,
  doneAt: r.done_at,
  lastError: r.last_error,
  result: r.result,
});

export async function recordIntentFailure(
  db: Db,
  id: number,
  error: string,
  final: boolean,
  opts: {
    /** Tried again no sooner than this (the reconciler leaves it alone until then). */
    retryInMs?: number;
    /** Failed for good once its tries, counted on the intent across all its jobs, reach this. */
    failAtAttempts?: number;
  } = {},
): Promise<{ failed: boolean }> {
  const failAt = opts.failAtAttempts;
  const rows = await db
    .update(outbox)
    .set({
      attempts: sql`${outbox.attempts} + 1`,
      lastError: error.slice(0, 2000),
      ...(final
        ? { status: "failed" }
        : failAt !== undefined
          ? {
              status: sql`CASE WHEN ${outbox.attempts} + 1 >= ${failAt} THEN 'failed' ELSE ${outbox.status} END`,
            }
          : {}),
      ...(opts.retryInMs !== undefined
        ? { availableAt: sql`now() + make_interval(secs => ${opts.retryInMs / 1000})` }
        : {}),
    })
    .where(and(eq(outbox.id, id), eq(outbox.status, "pending")))
    .returning({ status: outbox.status });
  return { failed: rows[0]?.status === "failed" };
}
