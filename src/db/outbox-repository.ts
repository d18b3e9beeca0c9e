import { and, asc, eq, lte, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { outbox } from "./schema/index.js";

export type OutboxIntent = {
  kind: string;
  dedupeKey: string;
  payload: Record<string, unknown>;
  /** Not delivered before this time (an aggregation window); now when absent. */
  availableAt?: Date;
};
export type OutboxRow = typeof outbox.$inferSelect;
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
type Executor = Db | Tx;

/** Records a side-effect intent; the same dedupe key twice is one intent. Returns its id. */
export async function insertIntent(db: Executor, intent: OutboxIntent): Promise<number> {
  const inserted = await db
    .insert(outbox)
    .values({
      kind: intent.kind,
      dedupeKey: intent.dedupeKey,
      payload: intent.payload,
      ...(intent.availableAt ? { availableAt: intent.availableAt } : {}),
    })
    .onConflictDoNothing({ target: outbox.dedupeKey })
    .returning({ id: outbox.id });
  if (inserted[0]) return inserted[0].id;
  const existing = await db
    .select({ id: outbox.id })
    .from(outbox)
    .where(eq(outbox.dedupeKey, intent.dedupeKey));
  if (!existing[0]) throw new Error(`outbox intent ${intent.dedupeKey} vanished`);
  return existing[0].id;
}

export async function listPendingIntents(db: Db, limit: number): Promise<number[]> {
  // Due by the database's clock, like `readIntent`; a not-yet-due intent is queued when due.
  const rows = await db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(eq(outbox.status, "pending"), lte(outbox.availableAt, sql`now()`)))
    .orderBy(asc(outbox.id))
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * The intent, and how long until it is due by the database's clock: the same clock that stamps
 * `available_at` by default, so an intent is never held back by a skew between the two.
 */
export async function readIntent(db: Db, id: number): Promise<(OutboxRow & { dueInMs: number }) | null> {
  const rows = await db
    .select({
      row: outbox,
      dueInMs: sql<number>`greatest(0, floor(extract(epoch FROM ${outbox.availableAt} - now()) * 1000))::float8`,
    })
    .from(outbox)
    .where(eq(outbox.id, id));
  const r = rows[0];
  return r ? { ...r.row, dueInMs: Number(r.dueInMs) } : null;
}

/**
 * Runs `effect` for a pending intent while holding its row lock, then marks it done in the same
 * transaction. A second worker skips a locked row instead of repeating the effect.
 */
export async function performIntent(
  db: Db,
  id: number,
  effect: (row: OutboxRow) => Promise<Record<string, unknown>>,
): Promise<"done" | "skipped"> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(outbox)
      .where(and(eq(outbox.id, id), eq(outbox.status, "pending")))
      .for("update", { skipLocked: true });
    const row = rows[0];
    if (!row) return "skipped";
    const result = await effect(row);
    await tx
      .update(outbox)
      .set({
        status: "done",
        doneAt: new Date(),
        attempts: sql`${outbox.attempts} + 1`,
        result,
        lastError: null,
      })
      .where(eq(outbox.id, id));
    return "done";
  });
}

export async function recordIntentFailure(db: Db, id: number, error: string, final: boolean): Promise<void> {
  await db
    .update(outbox)
    .set({
      attempts: sql`${outbox.attempts} + 1`,
      lastError: error.slice(0, 2000),
      ...(final ? { status: "failed" } : {}),
    })
    .where(and(eq(outbox.id, id), eq(outbox.status, "pending")));
}
