import { z } from "zod";

/**
 * Every background job: its name, the queue it runs on and the zod schema of its payload. Job
 * data never carries secrets, only ids the handler re-reads from Postgres. To add a job: add it
 * here, write `handlers/<name>.ts`, and wire it in `build-job-handlers.ts`.
 */
export const jobCatalogue = {
  "reconcile-outbox": { queue: "maintenance", payload: z.object({}).strict() },
  "deliver-outbox": {
    queue: "effects",
    payload: z.object({ outboxId: z.number().int().positive() }).strict(),
  },
  /** One Slack channel's messages, in order (a digest and its thread). */
  "deliver-channel": {
    queue: "channels",
    payload: z
      .object({
        outboxIds: z.array(z.number().int().positive()).min(1).max(100),
        /** Queued by the reconciler: the job first queued for them may have died mid-post. */
        recovered: z.literal(true).optional(),
      })
      .strict(),
  },
  "expire-acceptances": { queue: "maintenance", payload: z.object({}).strict() },
  "warn-expiring-acceptances": { queue: "maintenance", payload: z.object({}).strict() },
  "post-digest": { queue: "digests", payload: z.object({ subscriptionId: z.uuid() }).strict() },
  "expire-approvals": { queue: "maintenance", payload: z.object({}).strict() },
  "poll-workflow-runs": { queue: "maintenance", payload: z.object({}).strict() },
  "check-base-images": { queue: "maintenance", payload: z.object({}).strict() },
} as const;

export type JobName = keyof typeof jobCatalogue;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalogue)[N]["payload"]>;
export type QueueName = (typeof jobCatalogue)[JobName]["queue"];

/**
 * Jobs run at once per worker process. An effect holds its outbox row's transaction and may use a
 * second connection while it runs, so the total stays under the pool (DB_POOL_SIZE): two
 * connections for each maintenance, effects and digests job and each of the channel jobs'
 * CHANNEL_DB_SLOTS. A channel job mostly sleeps until its channel's next slot, holding no
 * connection, so many run at once: every digest channel of a morning is served in parallel.
 */
export const QUEUE_CONCURRENCY: Record<QueueName, number> = {
  maintenance: 2,
  effects: 6,
  digests: 2,
  channels: 128,
};
/** Channel jobs of one process holding a database connection at once. */
export const CHANNEL_DB_SLOTS = 4;

export const QUEUE_NAMES: readonly QueueName[] = [
  ...new Set(Object.values(jobCatalogue).map((j) => j.queue)),
];

export type JobContext = {
  jobId: string;
  attemptsMade: number;
  maxAttempts: number;
  /**
   * The job ran before and that run may have been cut short: a retry, or a worker that died
   * mid-run (whose effect may have happened without being recorded).
   */
  startedBefore: boolean;
  /**
   * The job's longest wait between attempts (its backoff at the last attempt, at most 5 minutes):
   * how often work that outlasts its attempts (a Slack outage) is tried again.
   */
  longestBackoffMs: number;
  /** Puts the job back to run at `timestamp` without counting an attempt (pacing, Retry-After). */
  deferUntil(timestamp: number): Promise<never>;
};
export type JobHandler<N extends JobName> = (payload: JobPayload<N>, ctx: JobContext) => Promise<void>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { count: 1_000, age: 24 * 3600 },
  removeOnFail: { count: 5_000, age: 7 * 24 * 3600 },
} as const;

/** Recurring jobs registered idempotently at start-up (BullMQ job schedulers). */
export const RECURRING_JOBS: ReadonlyArray<{ id: string; name: JobName; everyMs: number }> = [
  { id: "reconcile-outbox", name: "reconcile-outbox", everyMs: 15_000 },
  { id: "expire-acceptances", name: "expire-acceptances", everyMs: 60_000 },
  { id: "warn-expiring-acceptances", name: "warn-expiring-acceptances", everyMs: 3_600_000 },
  { id: "expire-approvals", name: "expire-approvals", everyMs: 60_000 },
  { id: "poll-workflow-runs", name: "poll-workflow-runs", everyMs: 60_000 },
];
