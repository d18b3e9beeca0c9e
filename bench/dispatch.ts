/**
 * `npm run bench:dispatch` — an approve click to the GitHub dispatch it causes: signed
 * `block_actions` click → ack → approveStage's commit (audit + outbox) → queued → worker →
 * dispatch-stage → the fake GitHub receives the workflow dispatch. 10 clicks/s, each on its own
 * rollout; patchpilot runs as `start` in its own process (QUALITY.md, "dispatch"). Baseline: the
 * sum of the parts measured in the same run (the approval commit through approveStage, a bare
 * BullMQ add → pickup, the GitHub calls dispatch-stage makes, sent bare to the same fake).
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { approveStage } from "../src/services/rollouts/approve-stage.js";
import type { RolloutDeps } from "../src/services/rollouts/rollout-deps.js";
import { startFakeGithub } from "../test/support/fake-github.js";
import { startFakeSlack } from "../test/support/fake-slack.js";
import { blockActionPayload, blockActions, postSigned } from "../test/support/sign-slack.js";
import { clearRedisPrefix } from "./ingest/clear-redis-prefix.js";
import { describeMachine } from "./ingest/describe-machine.js";
import {
  APPROVERS,
  admin,
  benchMembership,
  candidateOf,
  fleetConfig,
  fleetYaml,
  freshDatabase,
  giveCandidates,
  LEE,
  log,
  MARIA,
  openDatabase,
  pct,
  postgresVersion,
  REDIS_URL,
  sleep,
  startRollouts,
} from "./rollouts/fleet.js";
import { spawnRole } from "./rollouts/spawn-role.js";

const DB_NAME = "pp_bench_dispatch";
const RATE = 10;
const SECONDS = Number(process.env.BENCH_DISPATCH_SECONDS ?? 20);
const WARM = 20;
const PARTS = 60;
const BAR_MS = 500;
const SECRET = randomBytes(16).toString("hex");
const TOKEN = `xoxb-bench-${randomBytes(6).toString("hex")}`;
const GH_TOKEN = `github-bench-${randomBytes(8).toString("hex")}`;

const ms = (x: number) => `${x.toFixed(0)} ms`;

async function main(): Promise<void> {
  log("# dispatch — approve click to GitHub dispatch received (npm run bench:dispatch)");
  log(
    "sizing target: 5,000 images, 200 teams, ≈1.25 M open findings, ≈1.4 uploads/s; approvals come by the click",
  );
  for (const line of describeMachine(await postgresVersion())) log(line);
  log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const clicks = RATE * SECONDS;
  const images = WARM + clicks + PARTS;
  log(
    `shape: ${WARM} warm-up clicks, then ${clicks} clicks at ${RATE}/s, each approving its own rollout's staging; patchpilot "start" in its own process`,
  );

  const url = await freshDatabase(DB_NAME);
  const database = openDatabase(url, 10);
  const prefix = `pp-bench-dispatch-${randomBytes(4).toString("hex")}`;
  const barePrefix = `${prefix}-bare`;
  const config = fleetConfig(images);
  const configFile = join(tmpdir(), `pp-bench-dispatch-${process.pid}.yaml`);
  await writeFile(configFile, fleetYaml(images));
  const slack = await startFakeSlack({ token: TOKEN });
  slack.setUsergroupMembers(APPROVERS, [MARIA.id, "U0OMAR", LEE.id]);
  const github = await startFakeGithub({ token: GH_TOKEN });
  const deps: RolloutDeps = {
    db: database.db,
    config,
    now: () => new Date(),
    membership: benchMembership,
    afterCommit: async () => {},
  };
  const ids = await startRollouts(deps, images);
  await giveCandidates(database);
  // The start-up's card intents are not part of this measure: the worker starts idle.
  await database.pool.query("UPDATE outbox SET status = 'done', done_at = now() WHERE status = 'pending'");
  const service = await spawnRole("start", {
    DATABASE_URL: url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    PORT: "0",
    PATCHPILOT_CONFIG: configFile,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    GITHUB_TOKEN: GH_TOKEN,
    GITHUB_API_URL: github.url,
    GITHUB_WEBHOOK_SECRET: randomBytes(8).toString("hex"),
    LOG_LEVEL: "warn",
    SHUTDOWN_DRAIN_MS: "0",
  });
  const base = `http://127.0.0.1:${service.port}`;
  const bareRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    // The start-up's card intents drain first, so the clicks meet an idle worker.
    const pending = async () =>
      Number(
        (await database.pool.query<{ n: string }>("SELECT count(*) n FROM outbox WHERE status = 'pending'"))
          .rows[0]?.n,
      );
    for (let i = 0; i < 600 && (await pending()) > 0; i++) await sleep(100);

    const dispatchedAt = (rolloutId: number): number | undefined =>
      github.calls.find(
        (c) =>
          c.method === "POST" &&
          c.path.endsWith("/dispatches") &&
          (c.body as { inputs?: { rollout_id?: string } })?.inputs?.rollout_id === String(rolloutId),
      )?.at;
    const click = async (rolloutId: number) => {
      const payload = blockActionPayload({
        actionId: "rollout_approve",
        value: JSON.stringify({ rollout: rolloutId, stage: "staging", digest: candidateOf(rolloutId) }),
        userId: MARIA.id,
        userName: MARIA.name,
        channelId: "C0BENCH0000",
        responseUrl: slack.responseUrl(),
      });
      const sentAt = Date.now();
      const res = await postSigned(base, "/slack/events", blockActions(payload, SECRET));
      return { rolloutId, sentAt, ackMs: Date.now() - sentAt, status: res.status };
    };
    const fire = async (batch: number[]) => {
      const started = Date.now();
      const sent: Array<Promise<Awaited<ReturnType<typeof click>>>> = [];
      for (let i = 0; i < batch.length; i++) {
        const at = started + (i * 1000) / RATE;
        await sleep(Math.max(0, at - Date.now()));
        sent.push(click(batch[i] ?? 0));
      }
      const done = await Promise.all(sent);
      const until = Date.now() + 15_000;
      while (Date.now() < until && done.some((d) => dispatchedAt(d.rolloutId) === undefined)) await sleep(20);
      return done.map((d) => ({ ...d, dispatchMs: (dispatchedAt(d.rolloutId) ?? Number.NaN) - d.sentAt }));
    };
    await fire(ids.slice(0, WARM));
    const results = await fire(ids.slice(WARM, WARM + clicks));
    const got = results.filter((r) => Number.isFinite(r.dispatchMs));
    const lat = got.map((r) => r.dispatchMs);
    const acks = results.map((r) => r.ackMs);
    const errors = results.filter((r) => r.status !== 200).length;

    // The parts, measured bare in the same run, after the clicks (so they do not load them).
    const partIds = ids.slice(WARM + clicks);
    const commit: number[] = [];
    for (const id of partIds) {
      const t0 = performance.now();
      const r = await approveStage(deps, {
        rolloutId: id,
        stage: "staging",
        actor: MARIA,
        buttonDigest: candidateOf(id),
        origin: { bench: true },
      });
      if (!r.ok) throw new Error(`approve #${id}: ${r.message}`);
      commit.push(performance.now() - t0);
      await sleep(1000 / RATE);
    }
    const queue = new Queue("bare", { connection: bareRedis, prefix: barePrefix });
    const addedAt = new Map<string, number>();
    const pickup: number[] = [];
    const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker(
      "bare",
      async (job) => {
        pickup.push(performance.now() - (addedAt.get(job.id ?? "") ?? Number.NaN));
      },
      {
        connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
        prefix: barePrefix,
        concurrency: 8,
      },
    );
    await worker.waitUntilReady();
    for (let i = 0; i < PARTS; i++) {
      const id = `p${i}`;
      addedAt.set(id, performance.now());
      await queue.add("bare", {}, { jobId: id, removeOnComplete: true });
      await sleep(1000 / RATE);
    }
    while (pickup.length < PARTS) await sleep(10);
    await worker.close();
    workerConnection.disconnect();
    await queue.close();
    // The GitHub calls dispatch-stage made for one dispatch, replayed bare (same paths, bodies).
    const first = got[0];
    const dispatchCalls = github.calls.filter(
      (c) => c.path.includes(`/bench-`) && first && c.path.includes(`/repos/acme/bench-`),
    );
    const oneRepo = dispatchCalls.find((c) => c.method === "POST")?.path.split("/")[3] ?? "bench-0";
    const perDispatch = github.calls.filter((c) => c.path.includes(`/repos/acme/${oneRepo}/`));
    const http: number[] = [];
    for (let i = 0; i < PARTS; i++) {
      const t0 = performance.now();
      for (const c of perDispatch) {
        await fetch(`${github.url}${c.path}`, {
          method: c.method,
          headers: {
            authorization: `token ${GH_TOKEN}`,
            "content-type": "application/json",
            accept: "application/vnd.github+json",
          },
          ...(c.method === "POST" ? { body: JSON.stringify(c.body) } : {}),
        }).then((r) => r.arrayBuffer());
      }
      http.push(performance.now() - t0);
      await sleep(1000 / RATE);
    }
    const sum = (p: number) => pct(commit, p) + pct(pickup, p) + pct(http, p);
    log();
    log("| measure | p50 | p99 | max |");
    log("|---|---|---|---|");
    log(
      `| click → dispatch received (ours, ${got.length} of ${clicks}) | ${ms(pct(lat, 50))} | ${ms(pct(lat, 99))} | ${ms(Math.max(...lat))} |`,
    );
    log(`| click → ack | ${ms(pct(acks, 50))} | ${ms(pct(acks, 99))} | ${ms(Math.max(...acks))} |`);
    log(
      `| part: approval commit (approveStage, bench process) | ${ms(pct(commit, 50))} | ${ms(pct(commit, 99))} | ${ms(Math.max(...commit))} |`,
    );
    log(
      `| part: bare BullMQ add → pickup | ${ms(pct(pickup, 50))} | ${ms(pct(pickup, 99))} | ${ms(Math.max(...pickup))} |`,
    );
    log(
      `| part: GitHub calls (${perDispatch.map((c) => c.method).join(" + ")}) bare | ${ms(pct(http, 50))} | ${ms(pct(http, 99))} | ${ms(Math.max(...http))} |`,
    );
    log(`| baseline: sum of the parts | ${ms(sum(50))} | ${ms(sum(99))} | — |`);
    log(
      `| ours ÷ sum of the parts | ${(pct(lat, 50) / sum(50)).toFixed(1)}× | ${(pct(lat, 99) / sum(99)).toFixed(1)}× | — |`,
    );
    const pass = pct(lat, 99) <= BAR_MS && got.length === clicks && errors === 0;
    log();
    log(`click errors (non-200): ${errors}; dispatches missing after 15 s: ${clicks - got.length}`);
    log(
      `overall: ${pass ? "PASS" : "FAIL"} (bar: p99 click → dispatch received ≤ ${BAR_MS} ms, every click dispatched)`,
    );
  } finally {
    await service.stop();
    bareRedis.disconnect();
    await database.close();
    await slack.close();
    await github.close();
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    const deleted =
      (await clearRedisPrefix(REDIS_URL, prefix)) + (await clearRedisPrefix(REDIS_URL, barePrefix));
    log(`cleanup: dropped ${DB_NAME}, deleted ${deleted} Redis keys under ${prefix}:`);
  }
}

await main();
// The Bolt app and Octokit's limiters keep timers alive after cleanup; the figures are printed.
process.exit();
