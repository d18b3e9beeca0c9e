import { readFile } from "node:fs/promises";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { type Patchpilot, startPatchpilot } from "../../src/main.js";
import { createToken } from "../../src/services/upload-tokens.js";
import { REDIS_TEST_URL } from "../support/databases.js";
import { digestOf, trivyReport } from "../support/report-builders.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, type TestApp, writeTestConfig } from "../support/test-app.js";

// A cron with seconds: every 4 s is a new period, so several pass within one test.
const PERIOD_MS = 4_000;

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  // Processes first, then the app holding the database and the fake Slack.
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

/** A web process (owning a fresh database, Redis prefix and fake Slack) with one scan uploaded. */
async function startWeb(): Promise<TestApp> {
  const example = await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8");
  const config = await writeTestConfig(
    example.replace(
      '  - { channel: C0PAYMENTS, cron: "0 9 * * 1", timezone: Europe/Berlin, teams: [payments] }',
      '  - { channel: C0PAYMENTS, cron: "*/4 * * * * *", timezone: Europe/Berlin, teams: [payments] }',
    ),
  );
  const t = await startTestApp({ role: "web", env: { PATCHPILOT_CONFIG: config } });
  closers.push(() => t.close());
  const token = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })).token;
  const r = await fetch(`${t.baseUrl}/api/v1/scans`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(
      trivyReport({
        image: "ghcr.io/acme/payments-api:1.4",
        digest: digestOf(1),
        // Not fixable, so no new-findings alert: only digests go to the channel.
        vulns: [{ id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH" }],
      }),
    ),
  });
  expect(r.status).toBe(201);
  return t;
}

async function startProcess(t: TestApp, role: "web" | "worker"): Promise<Patchpilot> {
  const p = await startPatchpilot({ role, env: { ...t.env, PORT: "0", LOG_LEVEL: "warn" } });
  closers.push(() => p.close());
  return p;
}

type Run = { periodKey: string; ts: string | null };

/** Each digest run with the ts of the Slack message recorded for it (null until delivered). */
async function runs(t: TestApp): Promise<Run[]> {
  const r = await t.owner.db.execute(sql`
    SELECT r.period_key, m.ts FROM digest_runs r
    LEFT JOIN slack_messages m
      ON m.key = 'digest:' || r.subscription_id || ':' || r.period_key || ':' || r.team_id
    ORDER BY r.period_key`);
  return r.rows.map((row) => ({
    periodKey: String(row.period_key),
    ts: row.ts == null ? null : String(row.ts),
  }));
}

/** Outbox rows of the digests (their messages, thread replies and charts) in that status. */
async function digestOutboxCount(t: TestApp, status: "pending" | "failed"): Promise<number> {
  const r = await t.owner.db.execute(
    sql`SELECT count(*)::int AS n FROM outbox WHERE status = ${status} AND dedupe_key LIKE 'digest:%'`,
  );
  return Number(r.rows[0]?.n);
}

const topLevelDigests = (t: TestApp) =>
  t.slack
    .messages("C0PAYMENTS")
    .filter((m) => !m.thread_ts && String(m.text).startsWith("Patch digest"))
    .map((m) => m.ts);

/**
 * Runs and posted digests at a moment when every run is delivered and no new run started in
 * between, so the two lists can be compared one to one while the schedule keeps going.
 */
async function settled(t: TestApp): Promise<{ runs: Run[]; posted: string[] }> {
  const found: { snapshot?: { runs: Run[]; posted: string[] } } = {};
  await waitFor(
    async () => {
      const before = await runs(t);
      if (before.some((r) => r.ts === null) || (await digestOutboxCount(t, "pending")) > 0) return false;
      const posted = topLevelDigests(t);
      if ((await runs(t)).length !== before.length) return false;
      found.snapshot = { runs: before, posted };
      return true;
    },
    20_000,
    "every digest run to be delivered",
  );
  if (!found.snapshot) throw new Error("waitFor returned without a snapshot");
  return found.snapshot;
}

function expectEachPeriodPostedOnce(s: { runs: Run[]; posted: string[] }): void {
  const keys = s.runs.map((r) => r.periodKey);
  expect(new Set(keys).size).toBe(keys.length);
  // Every top-level digest in Slack is the one message of exactly one period: none extra.
  expect([...s.posted].sort()).toEqual(s.runs.map((r) => String(r.ts)).sort());
}

const runsAfter = async (t: TestApp, at: number) =>
  (await runs(t)).filter((r) => Date.parse(r.periodKey) > at).length;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function deletePrefixKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_TEST_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

describe("scheduled digests are posted exactly once", () => {
  it.concurrent("posts each period once with two web and two worker processes (scenario 22)", async () => {
    const t = await startWeb();
    await startProcess(t, "web");
    await Promise.all([startProcess(t, "worker"), startProcess(t, "worker")]);
    await waitFor(async () => (await runs(t)).length >= 3, 25_000, "three digest periods");
    const s = await settled(t);
    expect(s.runs.length).toBeGreaterThanOrEqual(3);
    expectEachPeriodPostedOnce(s);
    expect(await digestOutboxCount(t, "failed")).toBe(0);
  }, 50_000);

  it.concurrent("keeps the schedule across a restart of every worker, even with Redis emptied", async () => {
    const t = await startWeb();
    const first = await Promise.all([startProcess(t, "worker"), startProcess(t, "worker")]);
    await waitFor(async () => (await runs(t)).length >= 1, 15_000, "a first digest period");
    await Promise.all(first.map((w) => w.close()));

    // No worker for more than a period: that period is posted once late or not at all.
    await sleep(PERIOD_MS + 500);
    const restartedAt = Date.now();
    const second = await startProcess(t, "worker");
    await waitFor(async () => (await runsAfter(t, restartedAt)) >= 1, 15_000, "a period after the restart");
    await second.close();

    // Redis loses the schedulers and queued jobs; the workers rebuild them from Postgres.
    const prefix = t.env.REDIS_PREFIX;
    if (!prefix) throw new Error("the test app has no REDIS_PREFIX");
    await deletePrefixKeys(prefix);
    await sleep(PERIOD_MS + 500);
    const rebuiltAt = Date.now();
    await Promise.all([startProcess(t, "worker"), startProcess(t, "worker")]);
    await waitFor(
      async () => (await runsAfter(t, rebuiltAt)) >= 1,
      15_000,
      "a period after restarting on an empty Redis",
    );

    const s = await settled(t);
    expectEachPeriodPostedOnce(s);
    expect(await digestOutboxCount(t, "failed")).toBe(0);
  }, 50_000);
});
