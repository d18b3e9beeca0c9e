import type { Db } from "../db/client.js";
import { insertIntent, type OutboxIntent } from "../db/outbox-repository.js";
import { CHANNEL_BATCH, channelJobId, deliverJobId } from "../jobs/handlers/reconcile-outbox.js";
import type { JobQueues } from "../jobs/job-queues.js";

/**
 * Queues delivery of intents already committed; a failure is harmless (the reconciler retries).
 * With `oneChannel` the ids are one Slack channel's messages in the order they should appear (a
 * digest and its thread): one job delivers them in that order, waiting for each one's slot.
 */
export async function queueIntents(
  deps: { queues: JobQueues; onQueueError?: (e: unknown) => void },
  outboxIds: readonly number[],
  opts: { oneChannel?: boolean } = {},
): Promise<void> {
  try {
    if (opts.oneChannel && outboxIds.length > 1) {
      for (let i = 0; i < outboxIds.length; i += CHANNEL_BATCH) {
        const batch = outboxIds.slice(i, i + CHANNEL_BATCH);
        await deps.queues.enqueue("deliver-channel", { outboxIds: batch }, { jobId: channelJobId(batch) });
      }
      return;
    }
    await deps.queues.enqueueMany(
      "deliver-outbox",
      outboxIds.map((id) => ({ payload: { outboxId: id }, jobId: deliverJobId(id) })),
    );
  } catch (e) {
    deps.onQueueError?.(e);
  }
}

/**
 * Records a side effect durably, then queues it. If queueing fails (Redis down), the intent is
 * already safe in Postgres and the reconciler will queue it; the caller need not retry.
 */
export async function recordEffect(
  deps: { db: Db; queues: JobQueues; onQueueError?: (e: unknown) => void },
  intent: OutboxIntent,
): Promise<number> {
  const id = await insertIntent(deps.db, intent);
  await queueIntents(deps, [id]);
  return id;
}
