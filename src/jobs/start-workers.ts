import { DelayedError, type Job, type JobsOptions, UnrecoverableError, Worker } from "bullmq";
import type { Logger } from "../adapters/logger.js";
import type { Metrics } from "../http/metrics.js";
import {
  type JobHandlers,
  type JobName,
  jobCatalogue,
  QUEUE_CONCURRENCY,
  QUEUE_NAMES,
} from "./job-catalogue.js";
import { createRedis } from "./job-queues.js";

export type Workers = {
  /** Waits for active jobs until `deadline` (epoch ms), then stops regardless, Redis up or not. */
  close(deadline: number): Promise<void>;
};

function isJobName(name: string): name is JobName {
  return Object.hasOwn(jobCatalogue, name);
}

/** One BullMQ worker per queue; each job's payload is parsed before its handler sees it. */
export function startWorkers(opts: {
  redisUrl: string;
  prefix: string;
  handlers: JobHandlers;
  logger: Logger;
  metrics: Metrics;
}): Workers {
  const workers = QUEUE_NAMES.map((queue) => {
    const connection = createRedis(opts.redisUrl, { forWorker: true });
    connection.on("error", (e) =>
      opts.logger.warn({ queue, err: e.message }, "worker redis connection error"),
    );
    const worker = new Worker(
      queue,
      async (job: Job, token?: string) => {
        const name = job.name;
        if (!isJobName(name)) throw new UnrecoverableError(`unknown job "${name}" on queue ${queue}`);
        const parsed = jobCatalogue[name].payload.safeParse(job.data);
        if (!parsed.success)
          throw new UnrecoverableError(`invalid payload for ${name}: ${parsed.error.message}`);
        const handler = opts.handlers[name] as (p: unknown, c: unknown) => Promise<void>;
        await handler(parsed.data, {
          jobId: job.id ?? "",
          attemptsMade: job.attemptsMade,
          startedBefore: startedBefore(job),
          maxAttempts: job.opts.attempts ?? 1,
          longestBackoffMs: longestBackoffMs(job.opts),
          deferUntil: async (timestamp: number) => {
            await job.moveToDelayed(timestamp, token);
            throw new DelayedError();
          },
        });
      },
      { connection, prefix: opts.prefix, concurrency: QUEUE_CONCURRENCY[queue], autorun: true },
    );
    worker.on("completed", (job) =>
      opts.metrics.jobOutcomes.inc({ queue, job: job.name, outcome: "completed" }),
    );
    worker.on("failed", (job, err) => {
      const final = job
        ? job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError
        : true;
      opts.metrics.jobOutcomes.inc({
        queue,
        job: job?.name ?? "unknown",
        outcome: final ? "failed" : "retried",
      });
      opts.logger.warn(
        { queue, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, final, err: err.message },
        "job failed",
      );
    });
    worker.on("error", (err) => opts.logger.error({ queue, err: err.message }, "worker error"));
    return { worker, connection };
  });
  return {
    async close(deadline) {
      // Worker.close() waits for active jobs to finish and takes no new ones. A job cut off at
      // the deadline keeps its lock only until it expires; then another worker retries it.
      const graceful = Promise.all(workers.map((w) => w.worker.close()));
      const inTime = await Promise.race([graceful.then(() => true), sleepUntil(deadline).then(() => false)]);
      if (!inTime)
        await Promise.race([
          Promise.all(workers.map((w) => w.worker.close(true))),
          sleepUntil(Date.now() + 1_000),
        ]);
      for (const w of workers) w.connection.disconnect();
    },
  };
}

const BACKOFF_CAP_MS = 5 * 60_000;

/** The wait BullMQ puts before a job's last attempt (exponential or fixed backoff), capped. */
export function longestBackoffMs(opts: Pick<JobsOptions, "attempts" | "backoff">): number {
  const backoff = typeof opts.backoff === "number" ? { type: "fixed", delay: opts.backoff } : opts.backoff;
  const delay = backoff?.delay ?? 0;
  const longest =
    backoff?.type === "exponential" ? delay * 2 ** Math.max(0, (opts.attempts ?? 1) - 2) : delay;
  return Math.min(BACKOFF_CAP_MS, Math.max(1_000, longest));
}

/**
 * Whether a job ran before and that run may have been cut short: it failed (a retry), or its
 * worker died mid-run and BullMQ took it back as stalled. A run that put the job back on purpose
 * (a deferral) counts as neither.
 */
export function startedBefore(job: Pick<Job, "attemptsMade" | "stalledCounter">): boolean {
  return job.attemptsMade > 0 || job.stalledCounter > 0;
}

const sleepUntil = (t: number) =>
  new Promise<void>((r) => setTimeout(r, Math.max(0, t - Date.now())).unref());
