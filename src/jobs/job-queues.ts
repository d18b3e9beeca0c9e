import { type JobsOptions, Queue } from "bullmq";
import { Redis } from "ioredis";
import {
  DEFAULT_JOB_OPTIONS,
  type JobName,
  type JobPayload,
  jobCatalogue,
  QUEUE_NAMES,
  type QueueName,
  RECURRING_JOBS,
} from "./job-catalogue.js";

export type JobQueues = {
  enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    opts?: Pick<JobsOptions, "jobId" | "delay">,
  ): Promise<void>;
  /** Many jobs of one kind in one round trip (a digest's messages, a reconcile batch). */
  enqueueMany<N extends JobName>(
    name: N,
    jobs: ReadonlyArray<{ payload: JobPayload<N>; jobId: string }>,
  ): Promise<void>;
  /**
   * Like enqueue with a job id, but a finished (failed or completed) job of that id is removed
   * first: BullMQ ignores an add whose id still exists, which would leave the work undone.
   */
  requeue<N extends JobName>(name: N, payload: JobPayload<N>, jobId: string): Promise<void>;
  /** The fixed recurring jobs, plus `extra` ones whose period comes from the configuration. */
  registerRecurring(extra?: ReadonlyArray<{ id: string; name: JobName; everyMs: number }>): Promise<void>;
  /** Makes the digest schedulers exactly these (cron + IANA zone each), removing any others. */
  syncDigestSchedules(subs: ReadonlyArray<{ id: string; cron: string; timezone: string }>): Promise<void>;
  depths(): Promise<Array<{ queue: QueueName; state: string; count: number }>>;
  close(): Promise<void>;
};

export function createRedis(url: string, opts: { forWorker?: boolean } = {}): Redis {
  return new Redis(url, {
    // Workers block on Redis and must never give up; producers fail fast so a click answers in time.
    maxRetriesPerRequest: opts.forWorker ? null : 2,
    enableOfflineQueue: opts.forWorker ?? false,
    connectTimeout: 2_000,
    // Producers connect explicitly (and wait) at start-up; workers connect on their own.
    lazyConnect: !opts.forWorker,
  });
}

export function createJobQueues(opts: { connection: Redis; prefix: string }): JobQueues {
  const queues = new Map<QueueName, Queue>(
    QUEUE_NAMES.map((q) => [q, new Queue(q, { connection: opts.connection, prefix: opts.prefix })]),
  );
  const queueFor = (name: JobName): Queue => {
    const q = queues.get(jobCatalogue[name].queue);
    if (!q) throw new Error(`no queue for job ${name}`);
    return q;
  };
  return {
    async enqueue(name, payload, jobOpts = {}) {
      const data = jobCatalogue[name].payload.parse(payload);
      await queueFor(name).add(name, data, { ...DEFAULT_JOB_OPTIONS, ...jobOpts });
    },
    async enqueueMany(name, jobs) {
      if (jobs.length === 0) return;
      const schema = jobCatalogue[name].payload;
      await queueFor(name).addBulk(
        jobs.map((j) => ({
          name,
          data: schema.parse(j.payload),
          opts: { ...DEFAULT_JOB_OPTIONS, jobId: j.jobId },
        })),
      );
    },
    async requeue(name, payload, jobId) {
      const queue = queueFor(name);
      const existing = await queue.getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state !== "failed" && state !== "completed") return;
        await existing.remove();
      }
      await this.enqueue(name, payload, { jobId });
    },
    async registerRecurring(extra = []) {
      for (const r of [...RECURRING_JOBS, ...extra]) {
        await queueFor(r.name).upsertJobScheduler(r.id, { every: r.everyMs }, { name: r.name, data: {} });
      }
    },
    async syncDigestSchedules(subs) {
      const queue = queueFor("post-digest");
      const wanted = new Set(subs.map((s) => digestSchedulerId(s.id)));
      for (const s of subs) {
        await queue.upsertJobScheduler(
          digestSchedulerId(s.id),
          { pattern: s.cron, tz: s.timezone },
          { name: "post-digest", data: { subscriptionId: s.id }, opts: { ...DEFAULT_JOB_OPTIONS } },
        );
      }
      for (const existing of await queue.getJobSchedulers(0, -1)) {
        const key = existing.key;
        if (key.startsWith("digest:") && !wanted.has(key)) await queue.removeJobScheduler(key);
      }
    },
    async depths() {
      const out: Array<{ queue: QueueName; state: string; count: number }> = [];
      for (const [name, q] of queues) {
        const counts = await q.getJobCounts("waiting", "active", "delayed", "failed");
        for (const [state, count] of Object.entries(counts)) out.push({ queue: name, state, count });
      }
      return out;
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

export const digestSchedulerId = (subscriptionId: string) => `digest:${subscriptionId}`;
