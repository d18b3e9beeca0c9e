import type { Db } from "../db/client.js";
import { insertIntent, type OutboxIntent } from "../db/outbox-repository.js";
import { deliverJobId } from "../jobs/handlers/reconcile-outbox.js";
import type { JobQueues } from "../jobs/job-queues.js";

/** Queues delivery of intents already committed; a failure is harmless (the reconciler retries). */
export async function queueIntents(
  deps: { queues: JobQueues; onQueueError?: (e: unknown) => void },
  outboxIds: readonly number[],
): Promise<void> {
  try {
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
