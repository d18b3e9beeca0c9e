import { UnrecoverableError } from "bullmq";
import type { Db } from "../../db/client.js";
import { type OutboxRow, performIntent, recordIntentFailure } from "../../db/outbox-repository.js";
import type { JobHandler } from "../job-catalogue.js";

/** What each kind of intent does. New kinds (dispatch, notify, …) add an entry here. */
export type OutboxEffects = Record<string, (row: OutboxRow) => Promise<Record<string, unknown>>>;

export function deliverOutbox(deps: { db: Db; effects: OutboxEffects }): JobHandler<"deliver-outbox"> {
  return async ({ outboxId }, ctx) => {
    try {
      await performIntent(deps.db, outboxId, async (row) => {
        const effect = deps.effects[row.kind];
        if (!effect) throw new UnrecoverableError(`no effect registered for outbox kind "${row.kind}"`);
        return effect(row);
      });
    } catch (e) {
      const final = e instanceof UnrecoverableError || ctx.attemptsMade + 1 >= ctx.maxAttempts;
      await recordIntentFailure(deps.db, outboxId, e instanceof Error ? e.message : String(e), final);
      throw e;
    }
  };
}
