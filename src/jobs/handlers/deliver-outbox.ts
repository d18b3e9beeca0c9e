import { UnrecoverableError } from "bullmq";
import { classifySlackError, NotYet } from "../../adapters/slack-errors.js";
import type { Db } from "../../db/client.js";
import {
  type OutboxRow,
  performIntent,
  readIntent,
  recordIntentFailure,
} from "../../db/outbox-repository.js";
import { BlockKitLimitError } from "../../render/block-kit-limits.js";
import type { JobHandler } from "../job-catalogue.js";

/**
 * What each kind of intent does. An effect that cannot act yet (a paced or rate-limited Slack
 * channel, a thread parent not posted) throws NotYet: the job returns later, no attempt counted.
 */
export type OutboxEffects = Record<string, (row: OutboxRow) => Promise<Record<string, unknown>>>;

export function deliverOutbox(deps: {
  db: Db;
  effects: OutboxEffects;
  now: () => number;
}): JobHandler<"deliver-outbox"> {
  return async ({ outboxId }, ctx) => {
    const row = await readIntent(deps.db, outboxId);
    if (row?.status !== "pending") return;
    // An aggregation window still open: come back when it closes, no attempt spent.
    if (row.dueInMs > 0) return ctx.deferUntil(deps.now() + row.dueInMs);
    const effect = deps.effects[row.kind];
    if (!effect) {
      await recordIntentFailure(
        deps.db,
        outboxId,
        `no effect registered for outbox kind "${row.kind}"`,
        true,
      );
      throw new UnrecoverableError(`no effect registered for outbox kind "${row.kind}"`);
    }
    try {
      await performIntent(deps.db, outboxId, effect);
    } catch (e) {
      if (e instanceof NotYet) return ctx.deferUntil(deps.now() + e.retryInMs);
      // Our own refusals (a message over Block Kit limits, an orphaned reply) will not get better.
      if (e instanceof UnrecoverableError || e instanceof BlockKitLimitError) {
        await recordIntentFailure(deps.db, outboxId, errorText(e), true);
        throw e instanceof UnrecoverableError ? e : new UnrecoverableError(errorText(e));
      }
      const failure = classifySlackError(e);
      const final = failure.kind === "permanent" || ctx.attemptsMade + 1 >= ctx.maxAttempts;
      await recordIntentFailure(
        deps.db,
        outboxId,
        failure.kind === "permanent" ? `slack: ${failure.reason}` : errorText(e),
        final,
      );
      if (failure.kind === "permanent") throw new UnrecoverableError(`slack answered ${failure.reason}`);
      throw e;
    }
  };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
