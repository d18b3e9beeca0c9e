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
  registerRecurring(): Promise<void>;
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
    async registerRecurring() {
      for (const r of RECURRING_JOBS) {
        await queueFor(r.name).upsertJobScheduler(r.id, { every: r.everyMs }, { name: r.name, data: {} });
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
