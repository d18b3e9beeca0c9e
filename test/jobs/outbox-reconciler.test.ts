import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client.js";
import { createJobQueues } from "../../src/jobs/job-queues.js";
import { recordEffect } from "../../src/services/record-effect.js";
import { REDIS_TEST_URL } from "../support/databases.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, type TestApp } from "../support/test-app.js";

let t: TestApp;
let redis: Redis;
beforeAll(async () => {
  // Web role only: the test decides when workers run, to lose Redis between write and work.
  t = await startTestApp({ role: "web" });
  redis = new Redis(REDIS_TEST_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await t?.close();
});

async function outboxStatus(): Promise<string[]> {
  const r = await t.owner.db.execute(sql`SELECT status FROM outbox ORDER BY id`);
  return r.rows.map((row) => String(row.status));
}

async function flushPrefix(prefix: string): Promise<number> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  return keys.length;
}

describe("outbox and reconciler (Postgres is the source of truth)", () => {
  it("re-creates queued work after Redis loses it, and delivers each intent exactly once", async () => {
    const appDb = createDatabase(t.database.url, { max: 2 });
    const queueConn = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
    const queues = createJobQueues({ connection: queueConn, prefix: t.env.REDIS_PREFIX ?? "" });
    try {
      for (const n of [1, 2, 3]) {
        await recordEffect(
          { db: appDb.db, queues },
          {
            kind: "slack.post",
            dedupeKey: `test:${n}`,
            payload: { key: `test:${n}`, channel: "C0PAYMENTS", text: `message ${n}` },
          },
        );
      }
      // The same intent recorded again is the same intent.
      await recordEffect(
        { db: appDb.db, queues },
        {
          kind: "slack.post",
          dedupeKey: "test:1",
          payload: { key: "test:1", channel: "C0PAYMENTS", text: "message 1" },
        },
      );
      expect(await outboxStatus()).toEqual(["pending", "pending", "pending"]);

      // Redis emptied with work in flight (QUALITY.md scenario 11).
      expect(await flushPrefix(t.env.REDIS_PREFIX ?? "")).toBeGreaterThan(0);

      // Now start workers: their start-up registers the reconciler, which finds the pending rows.
      const { startPatchpilot } = await import("../../src/main.js");
      const worker = await startPatchpilot({ role: "worker", env: { ...t.env, PORT: "0" } });
      try {
        await waitFor(
          async () => (await outboxStatus()).every((s) => s === "done"),
          30_000,
          "outbox delivered",
        );
      } finally {
        await worker.close();
      }
      // Re-queued as the channel's job: in the order they were recorded, each once.
      const posted = t.slack.callsTo("chat.postMessage").map((c) => c.args.text);
      expect(posted).toEqual(["message 1", "message 2", "message 3"]);
      const refs = await t.owner.db.execute(sql`SELECT key FROM slack_messages ORDER BY key`);
      expect(refs.rows.map((r) => r.key)).toEqual(["test:1", "test:2", "test:3"]);
    } finally {
      await queues.close();
      queueConn.disconnect();
      await appDb.close();
    }
  });
});
