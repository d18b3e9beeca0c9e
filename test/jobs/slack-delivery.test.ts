import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../src/db/client.js";
import { createJobQueues, type JobQueues } from "../../src/jobs/job-queues.js";
import { recordEffect } from "../../src/services/record-effect.js";
import { REDIS_TEST_URL } from "../support/databases.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, type TestApp } from "../support/test-app.js";

let t: TestApp;
let app: Database;
let connection: Redis;
let queues: JobQueues;
beforeAll(async () => {
  t = await startTestApp();
  app = createDatabase(t.database.url, { max: 2 });
  connection = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
  queues = createJobQueues({ connection, prefix: t.env.REDIS_PREFIX ?? "" });
});
afterAll(async () => {
  await queues?.close();
  connection?.disconnect();
  await app?.close();
  await t?.close();
});

const post = (channel: string, n: number) =>
  recordEffect(
    { db: app.db, queues },
    {
      kind: "slack.post",
      dedupeKey: `pace:${channel}:${n}`,
      payload: { key: `pace:${channel}:${n}`, channel, text: `${channel} #${n}` },
    },
  );

describe("Slack delivery (QUALITY.md scenario 20)", () => {
  it("paces each channel to one message a second, honours Retry-After, and loses or doubles nothing", async () => {
    t.slack.enforceChannelRateLimit(1);
    t.slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 2 }, 1);
    const started = Date.now();
    for (let n = 1; n <= 3; n++) {
      await post("C0PAYMENTS", n);
      await post("C0SEARCH", n);
    }
    await waitFor(() => t.slack.messages().length === 6, 30_000, "all six messages");

    const calls = t.slack.callsTo("chat.postMessage");
    console.log(
      calls
        .map((c) => `${c.at - started} ${c.status} ${String(c.args.channel)} ${String(c.args.text)}`)
        .join("\n"),
    );
    const ok = calls.filter((c) => c.status === 200 && !String(JSON.stringify(c)).includes("ratelimited"));
    // Exactly one 429 (the injected one): pacing never tripped Slack's own limit.
    expect(calls.length - ok.length).toBe(1);
    const limited = calls.find((c) => !ok.includes(c));
    for (const channel of ["C0PAYMENTS", "C0SEARCH"]) {
      const texts = t.slack.messages(channel).map((m) => m.text);
      expect(texts.sort()).toEqual([1, 2, 3].map((n) => `${channel} #${n}`));
      const times = ok.filter((c) => c.args.channel === channel).map((c) => c.at);
      for (let i = 1; i < times.length; i++)
        expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(950);
      if (limited?.args.channel === channel) {
        // Nothing went to that channel before the Retry-After expired.
        for (const at of times.filter((a) => a > limited.at))
          expect(at - limited.at).toBeGreaterThanOrEqual(1_950);
      }
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe("messages that cannot be posted", () => {
  it("fails a message over Block Kit limits once, and its thread replies with it, instead of retrying forever", async () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: "divider" }));
    await recordEffect(
      { db: app.db, queues },
      {
        kind: "slack.post",
        dedupeKey: "broken:main",
        payload: { key: "broken:main", channel: "C0SEARCH", text: "too big", blocks },
      },
    );
    await recordEffect(
      { db: app.db, queues },
      {
        kind: "slack.post",
        dedupeKey: "broken:reply",
        payload: { key: "broken:reply", channel: "C0SEARCH", text: "reply", threadKey: "broken:main" },
      },
    );
    const status = async () =>
      (
        await t.owner.db.execute(
          sql`SELECT dedupe_key, status, attempts FROM outbox WHERE dedupe_key LIKE 'broken:%' ORDER BY dedupe_key`,
        )
      ).rows;
    await waitFor(
      async () => (await status()).every((r) => r.status === "failed"),
      20_000,
      "both intents to fail",
    );
    const rows = await status();
    expect(rows.map((r) => [r.dedupe_key, r.status, Number(r.attempts)])).toEqual([
      ["broken:main", "failed", 1],
      ["broken:reply", "failed", 1],
    ]);
    expect(t.slack.messages("C0SEARCH").map((m) => m.text)).not.toContain("reply");
  });
});
