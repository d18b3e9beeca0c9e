// `npm run demo`: patchpilot with no Slack workspace. It starts the real service against an
// in-process fake Slack, on a demo database of the local Postgres and a Redis prefix of its own,
// ingests the sample scans in examples/scans over the real API, and prints every message the bot
// sends as text plus a Block Kit Builder link. An in-process registry serves the base images and
// an in-process Prometheus answers the health gates' queries.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { Queue } from "bullmq";
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
import { trivyReport } from "../test/support/report-builders.js";
import { postSigned, slashCommand } from "../test/support/sign-slack.js";
import { startDemoPrometheus } from "./demo-prometheus.js";
import { startDemoRegistry } from "./demo-registry.js";
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

// The base images, in a registry of the demo's own (standing in for Docker Hub). node's release
// is the one payments-api was built on: exactly the first two layers its scans list.
const registry = await startDemoRegistry();
const layer = (what: string) => `sha256:${createHash("sha256").update(`demo layer: ${what}`).digest("hex")}`;
const sample = JSON.parse(
  await readFile(new URL("../examples/scans/payments-api-1.42.trivy.json", import.meta.url), "utf8"),
) as { Metadata: { DiffIDs: string[] } };
const NODE = { name: "library/node", tag: "22-bookworm-slim" };
registry.moveTag(NODE.name, NODE.tag, sample.Metadata.DiffIDs.slice(0, 2), "2026-10-07T03:12:00Z");
registry.moveTag("library/python", "3.12-slim", [layer("python 3.12 slim")], "2026-10-08T00:00:00Z");
registry.moveTag("library/eclipse-temurin", "21-jre", [layer("temurin 21 jre")], "2026-10-09T00:00:00Z");
const prometheus = await startDemoPrometheus();

// The demo's own copy of the example config: a short alert window so bursts of alerts are grouped
// and still delivered within the demo's few seconds; bake times of seconds; the fake Prometheus;
// base images in the demo's registry, and payments-api rolling out a base-image bump by itself.
await mkdir(OUT, { recursive: true });
const configPath = new URL("patchpilot.yaml", OUT).pathname;
const exampleConfig = await readFile(new URL("../patchpilot.example.yaml", import.meta.url), "utf8");
const inRegistry = (ref: string) => `${registry.host}/library/${ref}`;
const edits: Array<[string | RegExp, string]> = [
  ["burstWindow: 2m", "burstWindow: 1s"],
  ["url: http://prometheus:9090", `url: ${prometheus.url}`],
  [/bakeTime: \d+m/g, "bakeTime: 2s"],
  [
    "baseImage: node:22-bookworm-slim",
    `baseImage: ${inRegistry("node:22-bookworm-slim")}\n    onBaseImageDrift: rollout`,
  ],
  ["baseImage: python:3.12-slim", `baseImage: ${inRegistry("python:3.12-slim")}`],
  ["baseImage: eclipse-temurin:21-jre", `baseImage: ${inRegistry("eclipse-temurin:21-jre")}`],
  ["registries:\n", `registries:\n  - host: "${registry.host}"\n    insecure: true\n`],
];
let demoConfig = exampleConfig;
for (const [from, to] of edits) {
  if (!demoConfig.match(from))
    throw new Error(
      `demo: patchpilot.example.yaml no longer contains ${String(from)}; update scripts/demo.ts`,
    );
  demoConfig = demoConfig.replace(from, to);
}
// The example's emergency lane asks one approval more than production's usual two, so the demo's
// rollout (which fixes an overdue critical) waits for its window unless a third approver steps in.
await writeFile(configPath, demoConfig);
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
console.log(
  `Base images come from a demo registry at ${registry.host} (standing in for Docker Hub); health gates ask a demo Prometheus.`,
);
const queues = createJobQueues({ connection: redis, prefix: PREFIX });
const maintenance = new Queue("maintenance", { connection: redis, prefix: PREFIX });
let checks = 0;
/** One run of the freshness job, as its hourly schedule starts it; returns once it finished. */
async function checkBaseImages(): Promise<void> {
  const jobId = `demo-check-base-images-${++checks}`;
  await queues.enqueue("check-base-images", {}, { jobId });
  for (let i = 0; i < 400; i++) {
    const job = await maintenance.getJob(jobId);
    const state = await job?.getState();
    if (state === "completed") return;
    if (state === "failed") throw new Error(`demo: the freshness job failed: ${job?.failedReason}`);
    await sleep(50);
  }
  throw new Error("demo: gave up waiting for the freshness job");
}
const shortRef = (ref: string) => ref.replace(`${registry.host}/library/`, "");
const short = (digest: string | null) => (digest ? `${digest.slice(0, 19)}…` : "none");
const SEVERITIES = ["critical", "high", "medium", "low", "unknown"];
const counts = (c: Record<string, number> | null) => {
  const parts = SEVERITIES.filter((sev) => (c?.[sev] ?? 0) > 0).map((sev) => `${c?.[sev]} ${sev}`);
  return parts.length > 0 ? parts.join(", ") : "none";
};
/** What the freshness job recorded per image (table image_base_status). */
async function printBaseStatus(only?: string): Promise<void> {
  const rows = await owner.pool.query(
    `SELECT i.config_id, s.* FROM image_base_status s JOIN images i ON i.id = s.image_id
     WHERE $1::text IS NULL OR i.config_id = $1 ORDER BY i.config_id`,
    [only ?? null],
  );
  for (const r of rows.rows) {
    const on = `${String(r.config_id).padEnd(14)} on ${shortRef(r.base_ref).padEnd(24)}`;
    if (r.error) console.log(`${on} registry error: ${r.error}`);
    else if (r.state === "unknown")
      console.log(`${on} unknown: its latest scan lists no layers, so nothing to compare`);
    else if (r.state === "current")
      console.log(
        `${on} current (built on ${short(r.current_digest)}); from the base: ${counts(r.base_counts)}; from its own layers: ${r.app_findings}`,
      );
    else
      console.log(
        `${on} BEHIND: built on ${short(r.built_on_digest)}, the tag now points to ${short(r.current_digest)}; from the base: ${counts(r.base_counts)}; a bump fixes: ${r.bump_fixes === null ? "unknown (the new base is not scanned)" : counts(r.bump_fixes)}`,
      );
  }
}

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

heading("The hourly freshness job checks the base images (check-base-images)");
await checkBaseImages();
await printBaseStatus();

heading("The Monday digest for team payments is due (scheduled job)");
const subs = await owner.db.execute(sql`SELECT id FROM digest_subscriptions WHERE channel = 'C0PAYMENTS'`);
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
heading("The base image node:22-bookworm-slim publishes a new release");
// Debian's point release and a Node.js patch: new layers under the same tag.
const newBase = [layer("debian bookworm-slim rootfs 2026-11-17"), layer("node 22.21.1 2026-11-18")];
const moved = registry.moveTag(NODE.name, NODE.tag, newBase, "2026-11-18T02:40:00Z");
console.log(`registry: node:22-bookworm-slim now points to ${short(moved)} (built 2026-11-18, new layers)`);
// The platform team's CI scans every base release (here: what is left of the old one's findings).
const stillInNewBase = new Set(["CVE-2025-9999", "CVE-2026-0420"]);
const baseScan = trivyReport({
  image: inRegistry("node:22-bookworm-slim"),
  createdAt: "2026-11-24T09:05:00Z",
  vulns: [
    { id: "CVE-2025-9999", pkg: "libcurl4", version: "7.88.1-10+deb12u9", severity: "HIGH" },
    { id: "CVE-2026-0420", pkg: "tar", version: "1.34+dfsg-1.2+deb12u1", severity: "LOW" },
  ],
}) as { Metadata: Record<string, unknown> };
baseScan.Metadata.DiffIDs = newBase;
const baseQuery = new URLSearchParams({ image: `${registry.host}/${NODE.name}`, digest: moved });
const baseUpload = await fetch(`${base}/api/v1/scans?${baseQuery}`, {
  method: "POST",
  body: JSON.stringify(baseScan),
  headers: { authorization: `Bearer ${tokens.payments}`, "content-type": "application/json" },
});
const baseAnswer = (await baseUpload.json()) as { findings?: number };
console.log(
  `CI: POST /api/v1/scans?image=…/library/node&digest=${short(moved)} (the new base's scan) → ${baseUpload.status}  ${baseAnswer.findings} findings`,
);
console.log("The freshness job runs again, as its hourly schedule would:");
await checkBaseImages();
await printBaseStatus("payments-api");
const movedEvent = await owner.pool.query(
  "SELECT seq, payload FROM audit_events WHERE action = 'base_image.moved' ORDER BY seq DESC LIMIT 1",
);
const mv = movedEvent.rows[0]?.payload as
  | { from: string; to: string; baseFindings: number; fixedByBump: Record<string, number>; action: string }
  | undefined;
if (!mv) throw new Error("demo: the freshness job recorded no base_image.moved event");
console.log(
  `audit #${movedEvent.rows[0]?.seq}: base_image.moved ${short(mv.from)} → ${short(mv.to)}, ${mv.baseFindings} findings from the base, a bump fixes ${counts(mv.fixedByBump)}; onBaseImageDrift: ${mv.action}`,
);
let driftRollout: { id: number; reason: string } | undefined;
for (let i = 0; i < 200 && !driftRollout; i++) {
  const r = await owner.pool.query("SELECT id, reason FROM rollouts WHERE trigger = 'base-image'");
  driftRollout = r.rows[0];
  if (!driftRollout) await sleep(50);
}
if (!driftRollout) throw new Error("demo: the base-image drift started no rollout");
console.log(`patchpilot (as "freshness") starts rollout #${driftRollout.id}: ${driftRollout.reason}`);

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
  rolloutId: driftRollout.id,
  rebuiltOn: { diffIds: newBase, stillIn: stillInNewBase },
  prometheusQueries: prometheus.queries,
});

heading("The next freshness check: payments-api now runs on the new base");
await checkBaseImages();
await printBaseStatus("payments-api");

heading("patchpilot audit verify");
const verdict = await verifyAuditTrail(owner.db);
console.log(
  verdict.ok
    ? `audit trail OK: ${verdict.count} events, head seq ${verdict.head?.seq}`
    : `audit trail BROKEN at seq ${verdict.firstBadSeq}`,
);

await maintenance.close();
await queues.close();
await app.close();
await owner.close();
redis.disconnect();
await slack.close();
await github.close();
await registry.close();
await prometheus.close();
console.log(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
// Everything the demo opened is closed, yet something in the service keeps the event loop alive
// for ~25 s more (seen before the rollout part too): exit without waiting for it.
process.exit(verdict.ok ? 0 : 1);
