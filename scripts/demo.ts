// `npm run demo`: patchpilot with no Slack workspace. It starts the real service against an
// in-process fake Slack, on a demo database of the local Postgres and a Redis prefix of its own,
// ingests the sample scans in examples/scans over the real API, and prints every message the bot
// sends as text plus a Block Kit Builder link.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import pg from "pg";
import { createLogger } from "../src/adapters/logger.js";
import { createDatabase } from "../src/db/client.js";
import { createJobQueues } from "../src/jobs/job-queues.js";
import { startPatchpilot } from "../src/main.js";
import { verifyAuditTrail } from "../src/services/audit/verify-audit-trail.js";
import { acceptRisk } from "../src/services/risk/accept-risk.js";
import { createToken } from "../src/services/upload-tokens.js";
import { startFakeGithub } from "../test/support/fake-github.js";
import { startFakeSlack } from "../test/support/fake-slack.js";
import { postSigned, slashCommand } from "../test/support/sign-slack.js";
import { runRolloutDemo } from "./demo-rollout.js";
import { printSlackMessage } from "./print-slack-message.js";

const PG = process.env.DEMO_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.DEMO_REDIS_URL ?? "redis://127.0.0.1:6379";
const DEMO_DB = "patchpilot_demo";
const SECRET = "demo-signing-secret-not-secret";
const TOKEN = "xoxb-demo";
const PREFIX = "patchpilot-demo";
const GITHUB_TOKEN = "github-demo-not-a-real-token";
const WEBHOOK_SECRET = "demo-webhook-secret-not-secret";
const OUT = new URL("../demo-output/", import.meta.url);

async function freshDemoDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DEMO_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DEMO_DB}`);
  } finally {
    await admin.end();
  }
  const u = new URL(PG);
  u.pathname = `/${DEMO_DB}`;
  return u.toString();
}

async function clearDemoQueues(redis: Redis): Promise<void> {
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const heading = (s: string) => console.log(`\n━━ ${s} ${"━".repeat(Math.max(0, 86 - s.length))}\n`);

const started = Date.now();
// The demo's clock runs at normal speed from a chosen start, which the demo moves: the first
// scan is six weeks old, so its critical finding is past its SLA.
let offset = Date.parse("2026-10-14T09:30:00Z") - Date.now();
const now = () => new Date(Date.now() + offset);
const setClock = (iso: string) => {
  offset = Date.parse(iso) - Date.now();
};

const slack = await startFakeSlack({ token: TOKEN });
slack.setUser({ id: "U0MARIA", name: "maria", tz: "Europe/Berlin" });
// A fake GitHub Actions for the rollout: the demo plays CI for each dispatched run.
const github = await startFakeGithub({ token: GITHUB_TOKEN, now: () => now().getTime() });
const databaseUrl = await freshDemoDatabase();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
await clearDemoQueues(redis);
const quiet = new Writable({ write: (_c, _e, cb) => cb() });
// The demo's own copy of the example config, with a short alert window so bursts of alerts are
// grouped and still delivered within the demo's few seconds.
await mkdir(OUT, { recursive: true });
const configPath = new URL("patchpilot.yaml", OUT).pathname;
const exampleConfig = await readFile(new URL("../patchpilot.example.yaml", import.meta.url), "utf8");
// The example's emergency lane asks one approval more than production's usual two, so the demo's
// rollout (which fixes an overdue critical) waits for its window unless a third approver steps in.
await writeFile(configPath, exampleConfig.replace("burstWindow: 2m", "burstWindow: 1s"));
const env = {
  DATABASE_URL: databaseUrl,
  REDIS_URL,
  REDIS_PREFIX: PREFIX,
  PORT: "0",
  PATCHPILOT_CONFIG: configPath,
  SLACK_BOT_TOKEN: TOKEN,
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_API_URL: slack.url,
  GITHUB_TOKEN,
  GITHUB_API_URL: github.url,
  GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
  LOG_LEVEL: "warn",
  SHUTDOWN_DRAIN_MS: "0",
};
// DEMO_LOGS=1 shows the service's warnings on stderr.
const logger = createLogger("warn", process.env.DEMO_LOGS ? process.stderr : quiet);
const app = await startPatchpilot({ role: "all", env, logger, now });
const base = `http://127.0.0.1:${app.port}`;
const owner = createDatabase(databaseUrl, { appRole: false, max: 2 });
console.log(
  `patchpilot is running on ${base} with patchpilot.example.yaml (${app.config.teams.length} teams, ${app.config.images.length} images).`,
);

heading("CI uploads scans (POST /api/v1/scans)");
const tokens = {
  payments: (await createToken(owner.db, { teamId: "payments", name: "payments CI", scopes: ["upload"] }))
    .token,
  search: (await createToken(owner.db, { teamId: "search", name: "search CI", scopes: ["upload"] })).token,
};
async function upload(file: string, team: keyof typeof tokens) {
  const body = await readFile(new URL(`../examples/scans/${file}`, import.meta.url));
  const res = await fetch(`${base}/api/v1/scans`, {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${tokens[team]}`, "content-type": "application/json" },
  });
  const answer = (await res.json()) as { findings: number; diff: { new: number; fixed: number } };
  console.log(
    `${now().toISOString().slice(0, 10)}  ${file.padEnd(32)} → ${res.status}  ${answer.findings} findings, ${answer.diff.new} new, ${answer.diff.fixed} fixed`,
  );
}
await upload("payments-api-1.41.trivy.json", "payments");
setClock("2026-11-24T08:00:00Z");
await upload("payments-api-1.42.trivy.json", "payments");
await upload("ledger-worker-2.7.grype.json", "payments");
await upload("search-api-3.0.trivy.json", "search");

heading("Sam accepts a risk (audited, with an expiry)");
const accepted = await acceptRisk(
  { db: owner.db, config: app.config, now },
  {
    vulnerabilityId: "CVE-2025-9999",
    target: { imageRef: "ghcr.io/acme/payments-api" },
    until: new Date("2026-12-02T00:00:00Z"),
    reason: "not reachable: the service never follows redirects to other hosts",
    actor: { id: "U0SAM", name: "sam" },
    source: "cli",
    origin: { source: "demo" },
  },
);
console.log(
  `CVE-2025-9999 in payments-api accepted until ${accepted.expiresAt?.toISOString().slice(0, 10)}.`,
);

heading("The Monday digest for team payments is due (scheduled job)");
const subs = await owner.db.execute(sql`SELECT id FROM digest_subscriptions WHERE channel = 'C0PAYMENTS'`);
const queues = createJobQueues({ connection: redis, prefix: PREFIX });
for (const row of subs.rows) await queues.enqueue("post-digest", { subscriptionId: String(row.id) });
for (let i = 0; i < 200; i++) {
  const pending = await owner.db.execute(sql`SELECT count(*)::int AS n FROM outbox WHERE status = 'pending'`);
  const runs = await owner.db.execute(sql`SELECT count(*)::int AS n FROM digest_runs`);
  if (Number(runs.rows[0]?.n) > 0 && Number(pending.rows[0]?.n) === 0) break;
  await sleep(100);
}

heading("Maria asks /patch status payments-api");
const status = await postSigned(
  base,
  "/slack/events",
  slashCommand(
    { text: "status payments-api", userId: "U0MARIA", userName: "maria", channelId: "C0PAYMENTS" },
    SECRET,
  ),
);

heading("What the bot posted in Slack");
for (const m of slack.messages().filter((x) => !x.files)) {
  const where = m.thread_ts ? `in the thread of ${m.thread_ts} in ${m.channel}` : `in ${m.channel}`;
  console.log(printSlackMessage(`posted ${where}`, m));
  console.log();
}
for (const f of slack.files()) {
  if (!f.content) continue;
  const path = new URL(f.filename, OUT);
  await writeFile(path, f.content);
  console.log(`┌─ uploaded into the digest's thread: ${f.filename} → saved as ${path.pathname}\n`);
}
console.log(
  printSlackMessage(
    "/patch status payments-api → visible only to @maria",
    status.json as { text?: string; blocks?: unknown[] },
  ),
);

// Tuesday morning in Berlin: inside canary's business hours, two weeks before patch Tuesday.
setClock("2026-11-24T09:15:00Z");
await runRolloutDemo({
  base,
  slack,
  github,
  owner,
  redis,
  prefix: PREFIX,
  slackSecret: SECRET,
  webhookSecret: WEBHOOK_SECRET,
  uploadToken: tokens.payments,
  now,
  setClock,
  heading,
});

heading("patchpilot audit verify");
const verdict = await verifyAuditTrail(owner.db);
console.log(
  verdict.ok
    ? `audit trail OK: ${verdict.count} events, head seq ${verdict.head?.seq}`
    : `audit trail BROKEN at seq ${verdict.firstBadSeq}`,
);

await queues.close();
await app.close();
await owner.close();
redis.disconnect();
await slack.close();
await github.close();
console.log(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
// Everything the demo opened is closed, yet something in the service keeps the event loop alive
// for ~25 s more (seen before the rollout part too): exit without waiting for it.
process.exit(verdict.ok ? 0 : 1);
