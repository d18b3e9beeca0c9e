/**
 * `npm run bench:ack` — how fast a signed `block_actions` approve click is acknowledged under
 * 100 and 300 clicks/s (autocannon at a fixed rate, no pipelining, in its own process), by
 * patchpilot `web` in its own process against a bare Bolt app (ExpressReceiver, same signing
 * secret) that verifies and acks the same payload (QUALITY.md, "ack"). The clicks replay one
 * approve click: the first approves, the rest are answered "already approved" on the
 * response_url, after the ack, as a double click or Slack's retry would be.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import bolt from "@slack/bolt";
import { startFakeSlack } from "../test/support/fake-slack.js";
import { blockActionPayload, blockActions } from "../test/support/sign-slack.js";
import { clearRedisPrefix } from "./ingest/clear-redis-prefix.js";
import { describeMachine } from "./ingest/describe-machine.js";
import { REPO_ROOT } from "./ingest/start-service.js";
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
  postgresVersion,
  REDIS_URL,
  startRollouts,
} from "./rollouts/fleet.js";
import { spawnRole } from "./rollouts/spawn-role.js";

const DB_NAME = "pp_bench_ack";
const RATES = [100, 300];
const SECONDS = Number(process.env.BENCH_ACK_SECONDS ?? 20);
const BAR = 2;
const LATE_MS = 2_500;
const SECRET = randomBytes(16).toString("hex");
const TOKEN = `xoxb-bench-${randomBytes(6).toString("hex")}`;
const run = promisify(execFile);

type Load = {
  total: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
};

/** autocannon's CLI as a second process: fixed rate, no pipelining, 2.5 s timeout (a late ack). */
async function load(
  url: string,
  click: { body: string; headers: Record<string, string> },
  rate: number,
): Promise<Load> {
  const args = [
    join(REPO_ROOT, "node_modules/autocannon/autocannon.js"),
    "-m",
    "POST",
    ...Object.entries(click.headers).flatMap(([k, v]) => ["-H", `${k}=${v}`]),
    "-b",
    click.body,
    "-c",
    String(Math.max(20, Math.ceil(rate / 5))),
    "-p",
    "1",
    "-R",
    String(rate),
    "-d",
    String(SECONDS),
    "-t",
    String(LATE_MS / 1000),
    "--json",
    url,
  ];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 2 ** 20 });
  const r = JSON.parse(stdout) as {
    requests: { total: number };
    latency: { p50: number; p99: number; max: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}

/** CPU time (user + system) a process has used so far, in ms (Linux `/proc`, 100 ticks/s). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).replace(/^.*\) /, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Waits until the web process has answered every click it acknowledged (its work after the ack),
 * so the next phase does not share the machine with the previous one's tail.
 */
async function drained(answered: () => number, clicks: number): Promise<number> {
  const t0 = performance.now();
  let last = -1;
  let since = performance.now();
  while (answered() < clicks && performance.now() - since < 10_000) {
    if (answered() !== last) {
      last = answered();
      since = performance.now();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return performance.now() - t0;
}

async function bareBolt(): Promise<{ url: string; close(): Promise<void> }> {
  const receiver = new bolt.ExpressReceiver({ signingSecret: SECRET });
  // Bot ids given, so Bolt's single-workspace authorize never calls auth.test.
  const app = new bolt.App({
    receiver,
    token: TOKEN,
    botId: "B0PPBOT001",
    botUserId: "U0PPBOT001",
    tokenVerificationEnabled: false,
  });
  app.action("rollout_approve", async ({ ack }) => {
    await ack();
  });
  const server = receiver.app.listen(0, "127.0.0.1");
  await new Promise<void>((r) => server.once("listening", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/slack/events`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function main(): Promise<void> {
  log("# ack — approve clicks acknowledged under load (npm run bench:ack)");
  log(
    "sizing target: 5,000 images, 200 teams, ≈1.25 M open findings, ≈1.4 uploads/s; clicks are bursts of people, far below 100/s",
  );
  for (const line of describeMachine(await postgresVersion())) log(line);
  log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  log(
    `shape: one signed approve click replayed at ${RATES.join(" and ")} req/s for ${SECONDS} s each (autocannon CLI, own process, no pipelining); ` +
      `patchpilot "web" in its own process; bare Bolt ExpressReceiver in the bench process; late = no ack within ${LATE_MS / 1000} s`,
  );
  const url = await freshDatabase(DB_NAME);
  const database = openDatabase(url, 5);
  const prefix = `pp-bench-ack-${randomBytes(4).toString("hex")}`;
  const configFile = join(tmpdir(), `pp-bench-ack-${process.pid}.yaml`);
  await writeFile(configFile, fleetYaml(1));
  const slack = await startFakeSlack({ token: TOKEN });
  slack.setUsergroupMembers(APPROVERS, [MARIA.id, "U0OMAR", LEE.id]);
  const [rolloutId] = await startRollouts(
    {
      db: database.db,
      config: fleetConfig(1),
      now: () => new Date(),
      membership: benchMembership,
      afterCommit: async () => {},
    },
    1,
  );
  await giveCandidates(database);
  if (rolloutId === undefined) throw new Error("no rollout");
  const service = await spawnRole("web", {
    DATABASE_URL: url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    PORT: "0",
    PATCHPILOT_CONFIG: configFile,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    LOG_LEVEL: "warn",
    SHUTDOWN_DRAIN_MS: "0",
  });
  const bare = await bareBolt();
  try {
    const click = blockActions(
      blockActionPayload({
        actionId: "rollout_approve",
        value: JSON.stringify({ rollout: rolloutId, stage: "staging", digest: candidateOf(rolloutId) }),
        userId: MARIA.id,
        userName: MARIA.name,
        channelId: "C0BENCH0000",
        responseUrl: slack.responseUrl(),
      }),
      SECRET,
    );
    const ours = `http://127.0.0.1:${service.port}/slack/events`;
    // Warm-up, not judged: JIT and pooled connections on both sides.
    const answered = () => slack.callsTo("response_url").length;
    let clicks = (await load(ours, click, 50)).total;
    await drained(answered, clicks);
    await load(bare.url, click, 50);
    log();
    log(
      "| req/s | side | requests | p50 ms | p99 ms | max ms | errors | acks > 2.5 s | p99 ÷ bare p99 | bar | result |",
    );
    log("|---|---|---|---|---|---|---|---|---|---|---|");
    const passes: boolean[] = [];
    const cpuLines: string[] = [];
    const metricsUrl = `http://127.0.0.1:${service.port}/metrics`;
    for (const rate of RATES) {
      await loopDelay(metricsUrl); // starts the web process's event-loop delay histogram afresh
      const served0 = await servedWithin(metricsUrl);
      const cpu0 = await cpuMs(service.pid);
      const o = await load(ours, click, rate);
      const delay = await loopDelay(metricsUrl);
      const served = bucketsSince(served0, await servedWithin(metricsUrl));
      clicks += o.total;
      const tail = await drained(answered, clicks);
      const web = (await cpuMs(service.pid)) - cpu0;
      const own0 = process.cpuUsage();
      const b = await load(bare.url, click, rate);
      const own = process.cpuUsage(own0);
      const ratio = o.p99 / Math.max(b.p99, 1);
      const errors = o.errors - o.timeouts + o.non2xx;
      const pass = ratio <= BAR && errors === 0 && o.timeouts === 0;
      passes.push(pass);
      const row = (side: string, l: Load, tail: string) =>
        log(
          `| ${rate} | ${side} | ${l.total} | ${l.p50} | ${l.p99} | ${l.max} | ${l.errors - l.timeouts + l.non2xx} | ${l.timeouts} | ${tail}`,
        );
      row(
        "patchpilot web",
        o,
        `${ratio.toFixed(1)}× | ≤ ${BAR}×, 0 errors, 0 late | ${pass ? "PASS" : "**FAIL**"} |`,
      );
      row("bare Bolt", b, "— | — | — |");
      cpuLines.push(
        `${rate} req/s: web process CPU ${(web / o.total).toFixed(2)} ms per click (ack and the work after it; last answer ${tail.toFixed(0)} ms after the load stopped); its event loop delayed p99 ${delay.p99} ms, max ${delay.max} ms during the load; in the process (first middleware → response sent) p99 ${served}; bench process (bare Bolt) ${((own.user + own.system) / 1000 / b.total).toFixed(2)} ms per request`,
      );
    }
    log();
    for (const line of cpuLines) log(line);
    const approved = await database.pool.query<{ n: string }>(
      "SELECT count(*) n FROM audit_events WHERE action = 'stage.approved'",
    );
    log();
    log(
      `answers on the response_url: ${answered()} of ${clicks} clicks; stage.approved audit rows: ${approved.rows[0]?.n} (one click approved, the replays were told so)`,
    );
    log(
      `overall: ${passes.every(Boolean) ? "PASS" : "FAIL"} (bar: p99 ≤ ${BAR}× the bare Bolt p99, 0 errors, 0 acks > 2.5 s)`,
    );
  } finally {
    await bare.close();
    await service.stop();
    await database.close();
    await slack.close();
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    const deleted = await clearRedisPrefix(REDIS_URL, prefix);
    log(`cleanup: dropped ${DB_NAME}, deleted ${deleted} Redis keys under ${prefix}:`);
  }
}

await main();

/**
 * The web process's own request durations on /slack/events (from its first middleware to the
 * response sent: reading the body, the signature, Bolt, the ack), as cumulative bucket counts by
 * upper bound in ms: set beside the client's latency, it says whether a slow ack was slow inside
 * the process or before it got there.
 */
async function servedWithin(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const counts = new Map<string, number>();
  const line =
    /^patchpilot_http_request_duration_seconds_bucket\{(?=[^}]*route="\/slack\/events")[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm;
  for (const m of text.matchAll(line)) {
    const le = m[1] === "+Inf" ? "+Inf" : String(Number(m[1]) * 1000);
    counts.set(le, (counts.get(le) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** The p99 bucket of the requests served between two readings, e.g. "≤ 25 ms (3 over 100 ms)". */
function bucketsSince(before: Map<string, number>, after: Map<string, number>): string {
  const since = [...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)] as const);
  const total = since.find(([le]) => le === "+Inf")?.[1] ?? 0;
  if (total === 0) return "?";
  const p99 = since.find(([, n]) => n >= 0.99 * total)?.[0] ?? "+Inf";
  const within100 = since.find(([le]) => le === "100")?.[1] ?? total;
  return `≤ ${p99} ms (${total - within100} of ${total} over 100 ms)`;
}

/**
 * The web process's event-loop delay since the last call (prom-client's default metrics reset it
 * on every scrape): a stall inside the process shows here, one outside it (scheduling) does not.
 */
async function loopDelay(url: string): Promise<{ p99: string; max: string }> {
  const text = await (await fetch(url)).text();
  const read = (name: string) => {
    const v = new RegExp(`^patchpilot_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, "m").exec(text)?.[1];
    return v === undefined ? "?" : (Number(v) * 1000).toFixed(0);
  };
  return { p99: read("p99"), max: read("max") };
}
