/**
 * `npm run bench:queue` — jobs/s through our worker path (the BullMQ workers of start-workers,
 * payload parsing, deliver-outbox reading the intent and performing it under its row lock with a
 * no-op effect kind, marking it done) against a bare BullMQ worker whose processor does nothing,
 * same Redis, same concurrency (QUALITY.md, "queue"). Creates and drops its own database and
 * Redis prefixes.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { createLogger } from "../src/adapters/logger.js";
import { createMetrics } from "../src/http/metrics.js";
import { deliverOutbox } from "../src/jobs/handlers/deliver-outbox.js";
import { deliverJobId } from "../src/jobs/handlers/reconcile-outbox.js";
import { DEFAULT_JOB_OPTIONS, type JobHandlers, QUEUE_CONCURRENCY } from "../src/jobs/job-catalogue.js";
import { createJobQueues } from "../src/jobs/job-queues.js";
import { startWorkers } from "../src/jobs/start-workers.js";
import { clearRedisPrefix } from "./ingest/clear-redis-prefix.js";
import { describeMachine } from "./ingest/describe-machine.js";
import {
  admin,
  freshDatabase,
  log,
  openDatabase,
  postgresVersion,
  REDIS_URL,
  sleep,
} from "./rollouts/fleet.js";

const DB_NAME = "pp_bench_queue";
const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 3_000);
const ROUNDS = 3;
const BAR = 0.7;
const CONCURRENCY = QUEUE_CONCURRENCY.effects;

async function main(): Promise<void> {
  log("# queue — our worker path with a no-op effect vs a bare BullMQ no-op worker (npm run bench:queue)");
  log(
    "sizing target: 5,000 images, 200 teams, ≈1.25 M open findings, ≈1.4 uploads/s; 200 digests ≈ 800 effects at once",
  );
  for (const line of describeMachine(await postgresVersion())) log(line);
  log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  log(
    `shape: ${JOBS} jobs per round, all queued at once (addBulk), concurrency ${CONCURRENCY} (the effects queue's), ` +
      `${ROUNDS} rounds each side alternating, best round kept; both in this process`,
  );
  const url = await freshDatabase(DB_NAME);
  const database = openDatabase(url, 20);
  const ours = `pp-bench-queue-${randomBytes(4).toString("hex")}`;
  const bare = `pp-bench-queue-bare-${randomBytes(4).toString("hex")}`;
  const producer = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = createJobQueues({ connection: producer, prefix: ours });
  const noop = async () => {};
  const handlers: JobHandlers = {
    "reconcile-outbox": noop,
    "expire-approvals": noop,
    "poll-workflow-runs": noop,
    "check-base-images": noop,
    "expire-acceptances": noop,
    "warn-expiring-acceptances": noop,
    "post-digest": noop,
    "deliver-channel": noop,
    "deliver-outbox": deliverOutbox({
      db: database.db,
      now: () => Date.now(),
      effects: { "bench.noop": async () => ({}) },
    }),
  };
  const metrics = createMetrics();
  const workers = startWorkers({
    redisUrl: REDIS_URL,
    prefix: ours,
    handlers,
    logger: createLogger("warn"),
    metrics,
  });
  const completed = async () =>
    (await metrics.jobOutcomes.get()).values.find(
      (v) => v.labels.job === "deliver-outbox" && v.labels.outcome === "completed",
    )?.value ?? 0;
  const bareQueue = new Queue("effects", { connection: producer, prefix: bare });
  let bareDone = 0;
  const bareConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const bareWorker = new Worker("effects", async () => {}, {
    connection: bareConnection,
    prefix: bare,
    concurrency: CONCURRENCY,
  });
  bareWorker.on("completed", () => {
    bareDone++;
  });

  const runOurs = async (round: number): Promise<number> => {
    // The intents are recorded first (that is the producer's transaction, not the worker's).
    const ids = (
      await database.pool.query<{ id: string }>(
        `INSERT INTO outbox (kind, dedupe_key, payload)
         SELECT 'bench.noop', 'bench:' || $1::int || ':' || g, '{}'::jsonb FROM generate_series(1, $2::int) g
         RETURNING id`,
        [round, JOBS],
      )
    ).rows.map((r) => Number(r.id));
    const target = (await completed()) + JOBS;
    const t0 = performance.now();
    await queues.enqueueMany(
      "deliver-outbox",
      ids.map((id) => ({ payload: { outboxId: id }, jobId: deliverJobId(id) })),
    );
    // Counted as the bare side is, from the worker's "completed" events (the metric our workers
    // keep), not by polling Postgres, which would take CPU from the run it measures.
    while ((await completed()) < target) await sleep(2);
    const rate = JOBS / ((performance.now() - t0) / 1000);
    const r = await database.pool.query<{ n: string }>(
      "SELECT count(*) n FROM outbox WHERE dedupe_key LIKE $1 AND status = 'done'",
      [`bench:${round}:%`],
    );
    if (Number(r.rows[0]?.n) !== JOBS)
      throw new Error(`round ${round}: ${r.rows[0]?.n} of ${JOBS} intents done`);
    return rate;
  };
  const runBare = async (round: number): Promise<number> => {
    const target = bareDone + JOBS;
    const t0 = performance.now();
    await bareQueue.addBulk(
      Array.from({ length: JOBS }, (_, i) => ({
        name: "deliver-outbox",
        data: { outboxId: round * JOBS + i + 1 },
        opts: { ...DEFAULT_JOB_OPTIONS, jobId: `bare-${round}-${i}` },
      })),
    );
    while (bareDone < target) await sleep(2);
    return JOBS / ((performance.now() - t0) / 1000);
  };
  try {
    const o: number[] = [];
    const b: number[] = [];
    // Round 0 warms both sides up (JIT, pooled connections) and is not kept.
    for (let round = 0; round <= ROUNDS; round++) {
      const x = await runOurs(round);
      const y = await runBare(round);
      if (round > 0) {
        o.push(x);
        b.push(y);
      }
      log(
        `round ${round}${round === 0 ? " (warm-up)" : ""}: ours ${x.toFixed(0)} jobs/s, bare ${y.toFixed(0)} jobs/s`,
      );
    }
    const best = (xs: number[]) => Math.max(...xs);
    const ratio = best(o) / best(b);
    log();
    log("| measure | ours | bare BullMQ | ratio | bar | result |");
    log("|---|---|---|---|---|---|");
    log(
      `| jobs/s, best of ${ROUNDS} | ${best(o).toFixed(0)} | ${best(b).toFixed(0)} | ${(ratio * 100).toFixed(0)}% | ≥ ${BAR * 100}% | ${ratio >= BAR ? "PASS" : "**FAIL**"} |`,
    );
    const failed = await database.pool.query<{ n: string }>(
      "SELECT count(*) n FROM outbox WHERE status <> 'done'",
    );
    log(
      `| outbox rows not done | ${failed.rows[0]?.n} |  |  | 0 | ${Number(failed.rows[0]?.n) === 0 ? "PASS" : "**FAIL**"} |`,
    );
    log();
    log(`overall: ${ratio >= BAR ? "PASS" : "FAIL"} (bar: ours ≥ ${BAR * 100}% of the bare worker's jobs/s)`);
    log(
      `headroom: a morning of 200 digests is ≈ 800 effects: ${(800 / best(o)).toFixed(1)} s of worker time at this rate`,
    );
  } finally {
    await workers.close(Date.now() + 5_000);
    await bareWorker.close();
    bareConnection.disconnect();
    await bareQueue.close();
    await queues.close();
    producer.disconnect();
    await database.close();
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    const deleted = (await clearRedisPrefix(REDIS_URL, ours)) + (await clearRedisPrefix(REDIS_URL, bare));
    log(`cleanup: dropped ${DB_NAME}, deleted ${deleted} Redis keys under ${ours}: and ${bare}:`);
  }
  // Exits 0 either way: the verdict is in the output.
}

await main();
