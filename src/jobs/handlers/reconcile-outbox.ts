import type { Db } from "../../db/client.js";
import { listPendingIntents } from "../../db/outbox-repository.js";
import type { JobHandler } from "../job-catalogue.js";
import type { JobQueues } from "../job-queues.js";

const BATCH = 500;
// A channel's messages recorded this recently were queued with their commit (a digest's channel
// job may be waiting for their slots): a pass leaves them to that job, and takes them if still
// pending later. Other intents are re-queued at once under their own job id, as ever.
const SETTLED_MS = 10_000;

/**
 * Postgres is the source of truth: every pending intent gets a delivery job. The job id is the
 * intent id, so a job still queued is not added twice, and after Redis loses everything the
 * next run puts all of them back. Messages to a Slack channel are re-queued as that channel's
 * job, in the order they were recorded, once pending for SETTLED_MS.
 */
export function reconcileOutbox(deps: {
  db: Db;
  queues: JobQueues;
  now: () => Date;
  /** Kinds posted to a Slack channel one a second: re-queued per channel, in order. */
  channelKinds: readonly string[];
}): JobHandler<"reconcile-outbox"> {
  return async () => {
    const pending = await listPendingIntents(deps.db, BATCH, {
      settledMs: SETTLED_MS,
      channelKinds: deps.channelKinds,
    });
    const byChannel = new Map<string, number[]>();
    for (const { id, channel } of pending) {
      if (channel === null) await deps.queues.requeue("deliver-outbox", { outboxId: id }, deliverJobId(id));
      else byChannel.set(channel, [...(byChannel.get(channel) ?? []), id]);
    }
    // A channel's messages go out in order even if the job first queued for them is still at
    // work: both take the same messages' slots in the same order, and each is posted once. One
    // job id per channel: while the reconciler's job for a channel is still queued or at work,
    // later passes add no other (a long digest takes longer than a pass).
    for (const [channel, ids] of byChannel) {
      for (let i = 0; i < ids.length; i += CHANNEL_BATCH) {
        const batch = ids.slice(i, i + CHANNEL_BATCH);
        await deps.queues.requeue(
          "deliver-channel",
          { outboxIds: batch, recovered: true },
          `outbox-channel-reconciled-${channel}-${i / CHANNEL_BATCH}`,
        );
      }
    }
  };
}

export const deliverJobId = (outboxId: number) => `outbox-${outboxId}`;
/** Intents per channel job, within its payload's limit. */
export const CHANNEL_BATCH = 100;
export const channelJobId = (ids: readonly number[]) => `outbox-channel-${ids[0]}-${ids.length}`;
