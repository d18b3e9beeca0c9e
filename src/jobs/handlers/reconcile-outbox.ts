import type { Db } from "../../db/client.js";
import { listPendingIntents } from "../../db/outbox-repository.js";
import type { JobHandler } from "../job-catalogue.js";
import type { JobQueues } from "../job-queues.js";

const BATCH = 500;
// Intents recorded this recently were queued with their commit (a digest's channel job may be
// waiting for their slots): a pass leaves them to that job, and takes them if still pending later.
const SETTLED_MS = 10_000;

/**
 * Postgres is the source of truth: every pending intent gets a delivery job. The job id is the
 * intent id, so a job still queued is not added twice, and after Redis loses everything the
 * next run puts all of them back: those pending for SETTLED_MS, so work lost with Redis or a
 * crash is redelivered within SETTLED_MS plus one period.
 */
export function reconcileOutbox(deps: {
  db: Db;
  queues: JobQueues;
  now: () => Date;
}): JobHandler<"reconcile-outbox"> {
  return async () => {
    const ids = await listPendingIntents(deps.db, BATCH, SETTLED_MS);
    for (const outboxId of ids) {
      await deps.queues.requeue("deliver-outbox", { outboxId }, deliverJobId(outboxId));
    }
  };
}

export const deliverJobId = (outboxId: number) => `outbox-${outboxId}`;
