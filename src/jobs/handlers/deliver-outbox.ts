import { UnrecoverableError } from "bullmq";
import pLimit from "p-limit";
import type { ChannelGate } from "../../adapters/channel-gate.js";
import { classifySlackError, NotYet } from "../../adapters/slack-errors.js";
import type { Db } from "../../db/client.js";
import {
  type DueIntent,
  type IntentTx,
  type OutboxRow,
  performIntent,
  readIntent,
  readIntents,
  recordIntentFailure,
} from "../../db/outbox-repository.js";
import type { Statement } from "../../db/statements.js";
import { BlockKitLimitError } from "../../render/block-kit-limits.js";
import type { JobContext, JobHandler } from "../job-catalogue.js";

/**
 * What each kind of intent does. An effect that cannot act yet (a paced or rate-limited Slack
 * channel, a thread parent not posted) throws NotYet: the job returns later, no attempt counted.
 */
export type OutboxEffects = Record<
  string,
  (row: OutboxRow, intent: IntentTx) => Promise<Record<string, unknown>>
>;
/**
 * For the kinds paced per Slack channel: the channel and ticket their effect asks the gate for,
 * so a channel's delivery can wait for the slot before it opens a transaction, and what the
 * effect reads (`performIntent`'s `alsoRead`), so it is read with the lock.
 */
export type OutboxPacing = Record<
  string,
  (row: OutboxRow) => { channel: string; ticket: string; alsoRead?: Statement }
>;

type Deps = { db: Db; effects: OutboxEffects; now: () => number };

type Run = <T>(work: () => Promise<T>) => Promise<T>;
const direct: Run = (work) => work();

/**
 * One intent, delivered at most once: the work of both delivery jobs. `run` wraps each use of a
 * connection. Alone, the intent is locked, checked and performed in one transaction; with
 * `beforeEffect` (a channel's turn), it is read first, from `read` or the database, and
 * `beforeEffect` runs on it holding no connection before the transaction opens.
 */
async function deliverIntent(
  deps: Deps,
  outboxId: number,
  ctx: Pick<JobContext, "attemptsMade" | "maxAttempts" | "longestBackoffMs">,
  opts: {
    /** The job ran before and this intent may be the one it was performing then. */
    mayHaveActed?: boolean;
    run?: Run;
    /**
     * Runs before the effect holding no connection; it returns what runs after the effect, and
     * the read the effect needs in its transaction (`performIntent`'s `alsoRead`).
     */
    beforeEffect?: (
      row: OutboxRow,
    ) => Promise<{ after: () => Promise<void>; alsoRead?: Statement | undefined }>;
    read?: DueIntent | null;
  } = {},
): Promise<{ retryInMs: number } | null> {
  const run = opts.run ?? direct;
  const effect = (row: OutboxRow, intent: IntentTx) => {
    const perform = deps.effects[row.kind];
    if (!perform) throw new UnrecoverableError(`no effect registered for outbox kind "${row.kind}"`);
    return perform(row, intent);
  };
  // Tries so far: the job's, or with a read row the intent's own (a channel job's attempts are
  // shared by all of its messages, so one message's retries must not use up the next one's).
  let tried = ctx.attemptsMade;
  try {
    let prepared: Awaited<ReturnType<NonNullable<typeof opts.beforeEffect>>> | undefined;
    if (opts.beforeEffect) {
      const row = opts.read !== undefined ? opts.read : await run(() => readIntent(deps.db, outboxId));
      if (row?.status !== "pending") return null;
      if (row.dueInMs > 0) return { retryInMs: row.dueInMs };
      tried = row.attempts;
      prepared = await opts.beforeEffect(row);
    }
    let outcome: Awaited<ReturnType<typeof performIntent>>;
    try {
      outcome = await run(() =>
        performIntent(deps.db, outboxId, effect, {
          alsoRead: prepared?.alsoRead,
          mayHaveActed: opts.mayHaveActed === true,
        }),
      );
    } finally {
      await prepared?.after();
    }
    // An aggregation window still open: come back when it closes, no attempt spent.
    return typeof outcome === "object" ? { retryInMs: outcome.dueInMs } : null;
  } catch (e) {
    if (e instanceof NotYet) return { retryInMs: e.retryInMs };
    // Our own refusals (no effect for the kind, a message over Block Kit limits, an orphaned
    // reply) will not get better.
    if (e instanceof UnrecoverableError || e instanceof BlockKitLimitError) {
      await run(() => recordIntentFailure(deps.db, outboxId, errorText(e), true));
      throw e instanceof UnrecoverableError ? e : new UnrecoverableError(errorText(e));
    }
    const failure = classifySlackError(e);
    // A Slack outage does not drop a message: past the job's attempts, the intent stays pending
    // and comes back at the job's longest backoff, for up to a day of tries.
    const outage = failure.kind === "transient" && failure.outage;
    const final = failure.kind === "permanent" || (!outage && tried + 1 >= ctx.maxAttempts);
    // Past its quick retries (an outage), or a channel job spent on its earlier messages' failures:
    // put back rather than failed, and out of the reconciler's sight until then.
    const later =
      !final && ((outage && tried + 1 >= ctx.maxAttempts) || ctx.attemptsMade + 1 >= ctx.maxAttempts);
    const text = failure.kind === "permanent" ? `slack: ${failure.reason}` : errorText(e);
    const recorded = await run(() =>
      recordIntentFailure(deps.db, outboxId, text, final, {
        ...(later && { retryInMs: ctx.longestBackoffMs }),
        // An outage is waited out for a day of tries, counted on the intent: a job put back
        // counts no attempt of its own.
        ...(outage && {
          failAtAttempts: ctx.maxAttempts + Math.ceil(OUTAGE_PATIENCE_MS / ctx.longestBackoffMs),
        }),
      }),
    );
    if (failure.kind === "permanent") throw new UnrecoverableError(`slack answered ${failure.reason}`);
    // Failed for good: a channel job goes on with its other messages.
    if (final || recorded.failed) throw new UnrecoverableError(text);
    if (later) return { retryInMs: ctx.longestBackoffMs };
    throw e;
  }
}

export function deliverOutbox(deps: Deps): JobHandler<"deliver-outbox"> {
  return async ({ outboxId }, ctx) => {
    const wait = await deliverIntent(deps, outboxId, ctx, { mayHaveActed: ctx.startedBefore });
    if (wait) return ctx.deferUntil(deps.now() + wait.retryInMs);
  };
}

/** How long a message waits out a Slack outage (5xx, timeouts, no connection) before it fails. */
const OUTAGE_PATIENCE_MS = 24 * 3600_000;

// Up to this long, a channel's next message is waited for in the job (holding no connection);
// longer (a Retry-After, an aggregation window), the job is put back until then.
const WAIT_IN_PLACE_MS = 3_000;

/**
 * One Slack channel's messages in order (a digest, its thread replies, its chart), each as
 * `deliver-outbox` would deliver it, in one job that sleeps until each message's slot with no
 * transaction open. Messages already delivered are skipped, so a retry, or a second job for the
 * same intents (the reconciler's), repeats nothing. One message failing for good does not hold
 * back the rest; the job then fails with it.
 */
export function deliverChannel(
  deps: Deps & { gate: ChannelGate; pacing: OutboxPacing; dbSlots: number },
): JobHandler<"deliver-channel"> {
  // Many channels wait at once; only a few hold a database connection.
  const limit = pLimit(deps.dbSlots);
  const withConnection: Run = (work) => limit(work);
  const readTogether = coalesced<number, DueIntent>((ids) => withConnection(() => readIntents(deps.db, ids)));
  // The slot is taken before the transaction opens, holding no connection while it waits; the
  // send inside the effect then uses it.
  const beforeEffect = async (row: OutboxRow) => {
    const pace = deps.pacing[row.kind]?.(row);
    if (!pace) return { after: async () => {} };
    // Right after this process's previous send on the channel: its slot's time is known here.
    const ready = deps.gate.readyIn(pace.channel);
    if (ready > 0) await sleep(ready);
    for (;;) {
      const wait = await deps.gate.takeAhead(pace.channel, pace.ticket);
      if (wait === 0)
        return { after: () => deps.gate.release(pace.channel, pace.ticket), alsoRead: pace.alsoRead };
      if (wait > WAIT_IN_PLACE_MS) throw new NotYet(`channel ${pace.channel} paced`, wait);
      await sleep(wait);
    }
  };
  return async ({ outboxIds, recovered }, ctx) => {
    let failed: unknown = null;
    // All of the channel's intents in one read (shared with the jobs starting meanwhile); one
    // coming round again is read afresh.
    const read = await readTogether(outboxIds);
    // Run before (or in place of a job that died), any message still pending may have been
    // posted with its answer lost: not only by this job's earlier run (its first pending one),
    // but by another job over the same intents that died too (the reconciler's, or the one it
    // stood in for), part way down the list. Each is looked for before it is posted.
    const mayHaveActed = ctx.startedBefore || recovered === true;
    for (const id of outboxIds) {
      for (let first = true; ; first = false) {
        let wait: { retryInMs: number } | null;
        try {
          wait = await deliverIntent(deps, id, ctx, {
            run: withConnection,
            beforeEffect,
            mayHaveActed,
            ...(first && { read: read.get(id) ?? null }),
          });
        } catch (e) {
          if (!(e instanceof UnrecoverableError)) throw e;
          failed ??= e;
          break;
        }
        if (!wait) break;
        if (wait.retryInMs > WAIT_IN_PLACE_MS) return ctx.deferUntil(deps.now() + wait.retryInMs);
        await sleep(wait.retryInMs);
      }
    }
    if (failed) throw failed;
  };
}

/**
 * Reads asked for while one is waiting for a connection or running go out together as the next
 * one: a burst of channel jobs starting at once (a digest morning's 200 channels) costs a few
 * reads, not one each, and leaves the connections to the deliveries.
 */
function coalesced<K, V>(
  read: (keys: K[]) => Promise<Map<K, V>>,
): (keys: readonly K[]) => Promise<Map<K, V>> {
  type Waiter = { keys: readonly K[]; resolve: (rows: Map<K, V>) => void; reject: (e: unknown) => void };
  let waiting: Waiter[] = [];
  let reading = false;
  const drain = async () => {
    reading = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        const rows = await read([...new Set(batch.flatMap((w) => w.keys))]);
        for (const w of batch) w.resolve(rows);
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
    reading = false;
  };
  return (keys) =>
    new Promise((resolve, reject) => {
      waiting.push({ keys, resolve, reject });
      if (!reading) void drain();
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
