import { WebClient } from "@slack/web-api";
import { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../src/db/client.js";
import { insertIntents } from "../../src/db/outbox-repository.js";
import { channelJobId, deliverJobId } from "../../src/jobs/handlers/reconcile-outbox.js";
import { createJobQueues, type JobQueues } from "../../src/jobs/job-queues.js";
import { queueIntents, recordEffect } from "../../src/services/record-effect.js";
import { MESSAGE_KEY_EVENT } from "../../src/services/upsert-slack-message.js";
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
        // The refused message keeps its place: it goes first once Retry-After has passed.
        const next = ok.find((c) => c.args.channel === channel && c.at > limited.at);
        expect(next?.args.text).toBe(limited.args.text);
      }
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe("a Slack outage", () => {
  it("keeps a single message pending past its job's attempts and posts it once Slack answers", async () => {
    t.slack.reset();
    const short = new Queue("effects", { connection, prefix: t.env.REDIS_PREFIX ?? "" });
    const [id] = await app.db.transaction((tx) =>
      insertIntents(tx, [
        {
          kind: "slack.post",
          dedupeKey: "outage-one",
          payload: { key: "outage-one", channel: "C0OUTONE", text: "after the outage" },
        },
      ]),
    );
    t.slack.failNext("chat.postMessage", { status: 502 }, 4);
    await short.add(
      "deliver-outbox",
      { outboxId: id },
      { jobId: deliverJobId(id ?? 0), attempts: 2, backoff: { type: "fixed", delay: 50 } },
    );
    await waitFor(() => t.slack.messages("C0OUTONE").length === 1, 20_000, "the message after the outage");
    await short.close();
    expect(t.slack.callsTo("chat.postMessage").map((c) => c.status)).toEqual([502, 502, 502, 502, 200]);
    const row = await t.owner.db.execute(sql`SELECT status FROM outbox WHERE dedupe_key = 'outage-one'`);
    expect(row.rows[0]?.status).toBe("done");
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

describe("a channel's messages delivered by one job (a digest and its thread)", () => {
  const record = async (
    channel: string,
    tag: string,
    parts: Array<{ n: string; reply?: boolean; big?: boolean }>,
    opts: { queue?: boolean } = {},
  ) => {
    const main = `${tag}:${channel}:main`;
    const ids = await app.db.transaction((tx) =>
      insertIntents(
        tx,
        parts.map((p) => {
          const key = p.n === "main" ? main : `${main}:${p.n}`;
          return {
            kind: "slack.post",
            dedupeKey: key,
            payload: {
              key,
              channel,
              text: `${channel} ${p.n}`,
              ...(p.reply && { threadKey: main }),
              ...(p.big && { blocks: Array.from({ length: 51 }, () => ({ type: "divider" })) }),
            },
          };
        }),
      ),
    );
    if (opts.queue !== false) await queueIntents({ queues }, ids, { oneChannel: true });
    return ids;
  };

  it("posts them in order, one a second per channel, replies in their thread, channels side by side", async () => {
    t.slack.reset();
    t.slack.enforceChannelRateLimit(1);
    const channels = ["C0LANEA", "C0LANEB", "C0LANEC"];
    const started = Date.now();
    for (const c of channels)
      await record(c, "lane", [
        { n: "main" },
        { n: "r0", reply: true },
        { n: "r1", reply: true },
        { n: "tail" },
      ]);
    await waitFor(() => t.slack.messages().length === 12, 20_000, "all twelve messages");
    const elapsed = Date.now() - started;
    const calls = t.slack.callsTo("chat.postMessage");
    // Slack's own limit never tripped: no 429, nothing posted twice.
    expect(calls.filter((c) => c.status !== 200).length).toBe(0);
    expect(calls.length).toBe(12);
    for (const c of channels) {
      const posted = calls.filter((call) => call.args.channel === c);
      expect(posted.map((p) => p.args.text)).toEqual([`${c} main`, `${c} r0`, `${c} r1`, `${c} tail`]);
      for (let i = 1; i < posted.length; i++)
        expect((posted[i]?.at ?? 0) - (posted[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
      const [main, ...rest] = t.slack.messages(c);
      expect(rest.filter((m) => m.thread_ts !== undefined).map((m) => m.thread_ts)).toEqual([
        main?.ts,
        main?.ts,
      ]);
    }
    // Four messages a channel take three seconds at Slack's pace; the channels went in parallel.
    expect(elapsed).toBeLessThan(8_000);
  });

  it("posts each message once and in order when a second job takes the same messages (the reconciler's)", async () => {
    t.slack.reset();
    t.slack.enforceChannelRateLimit(1);
    const parts = [{ n: "main" }, { n: "r0", reply: true }, { n: "r1", reply: true }, { n: "tail" }];
    const ids = await record("C0LANEE", "lane-twice", parts);
    // As the reconciler re-queues what is still pending while the first job works through it.
    await queues.enqueue("deliver-channel", { outboxIds: ids.slice(1) }, { jobId: "second-lane" });
    await waitFor(() => t.slack.messages("C0LANEE").length >= 4, 20_000, "four messages");
    await new Promise((r) => setTimeout(r, 1_500)); // a late duplicate would arrive by now
    const calls = t.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === "C0LANEE");
    expect(calls.map((c) => [c.status, c.args.text])).toEqual(
      ["main", "r0", "r1", "tail"].map((n) => [200, `C0LANEE ${n}`]),
    );
  });

  it("edits a message posted before under the same key in place, and records each message with its done-mark", async () => {
    t.slack.reset();
    const key = "lane-edit:C0LANEU:card";
    const ids = await app.db.transaction((tx) =>
      insertIntents(
        tx,
        ["first", "second"].map((n) => ({
          kind: "slack.post",
          dedupeKey: `${key}:${n}`,
          payload: { key, channel: "C0LANEU", text: `card, ${n} version` },
        })),
      ),
    );
    await queueIntents({ queues }, ids, { oneChannel: true });
    const settled = async () =>
      (
        await t.owner.db.execute(
          sql`SELECT o.status, m.ts FROM outbox o LEFT JOIN slack_messages m ON m.key = o.payload->>'key'
              WHERE o.dedupe_key LIKE 'lane-edit:%' ORDER BY o.id`,
        )
      ).rows as Array<{ status: string; ts: string | null }>;
    await waitFor(async () => (await settled()).every((r) => r.status === "done"), 20_000, "both delivered");
    const posted = t.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === "C0LANEU");
    const updated = t.slack.callsTo("chat.update").filter((c) => c.args.channel === "C0LANEU");
    expect(posted.length).toBe(1);
    expect(updated.map((c) => c.args.text)).toEqual(["card, second version"]);
    const messages = t.slack.messages("C0LANEU");
    expect(messages.map((m) => m.text)).toEqual(["card, second version"]);
    // The ts Slack answered is what the database remembers for the key.
    expect((await settled()).map((r) => r.ts)).toEqual([messages[0]?.ts, messages[0]?.ts]);
  });

  it("finds a post whose answer was lost (it landed, Slack answered 503) instead of posting it twice", async () => {
    t.slack.reset();
    // The digest's main message lands, but its answer is a 503, as when a reply is lost.
    t.slack.failNext("chat.postMessage", { status: 503, landed: true });
    await record("C0LANEL", "lane-lost", [{ n: "main" }, { n: "r0", reply: true }, { n: "tail" }]);
    const statuses = async () =>
      (
        await t.owner.db.execute(
          sql`SELECT o.status, m.ts FROM outbox o LEFT JOIN slack_messages m ON m.key = o.dedupe_key
              WHERE o.dedupe_key LIKE 'lane-lost:%' ORDER BY o.id`,
        )
      ).rows as Array<{ status: string; ts: string | null }>;
    await waitFor(async () => (await statuses()).every((r) => r.status === "done"), 20_000, "all delivered");
    const [main, ...rest] = t.slack.messages("C0LANEL");
    // Posted once each, in order, the reply in the thread of the message that landed first time.
    expect([main, ...rest].map((m) => m?.text)).toEqual(["C0LANEL main", "C0LANEL r0", "C0LANEL tail"]);
    expect(rest[0]?.thread_ts).toBe(main?.ts);
    // The retried job looks for each message it still has pending (another job may have posted
    // any of them): the main message and the tail in the channel, the reply in its thread.
    expect(t.slack.callsTo("conversations.history").length).toBe(2);
    expect(t.slack.callsTo("conversations.replies").length).toBe(1);
    expect((await statuses()).map((r) => r.ts)).toEqual([main?.ts, rest[0]?.ts, rest[1]?.ts]);
  });

  it("finds a lost thread reply in its thread, and posts a message that never landed", async () => {
    t.slack.reset();
    await record("C0LANEM", "lane-lost-reply", [{ n: "main" }, { n: "r0", reply: true }]);
    await waitFor(() => t.slack.messages("C0LANEM").length >= 1, 10_000, "the main message");
    t.slack.failNext("chat.postMessage", { status: 502, landed: true });
    await waitFor(
      async () =>
        (
          await t.owner.db.execute(
            sql`SELECT 1 FROM outbox WHERE dedupe_key LIKE 'lane-lost-reply:%' AND status <> 'done'`,
          )
        ).rows.length === 0,
      20_000,
      "both delivered",
    );
    const [main, reply] = t.slack.messages("C0LANEM");
    expect(t.slack.messages("C0LANEM")).toHaveLength(2);
    expect(reply?.thread_ts).toBe(main?.ts);
    expect(t.slack.callsTo("conversations.replies").length).toBe(1);

    // A 503 that did not land: looked for, not found, posted on the retry.
    t.slack.reset();
    t.slack.failNext("chat.postMessage", { status: 503 });
    await record("C0LANEN", "lane-never", [{ n: "main" }]);
    await waitFor(() => t.slack.messages("C0LANEN").length >= 1, 20_000, "posted on the retry");
    await new Promise((r) => setTimeout(r, 500));
    expect(t.slack.messages("C0LANEN").map((m) => m.text)).toEqual(["C0LANEN main"]);
    expect(t.slack.callsTo("chat.postMessage").map((c) => c.status)).toEqual([503, 200]);
  });

  it("waits out a rate-limited lookup for a lost post without spending an attempt, then finds it", async () => {
    t.slack.reset();
    t.slack.failNext("chat.postMessage", { status: 500, landed: true });
    t.slack.failNext("conversations.history", { status: 429, retryAfterSeconds: 1 });
    await record("C0LANER", "lane-lookup-429", [{ n: "main" }]);
    const row = async () =>
      (
        await t.owner.db.execute(
          sql`SELECT status, attempts FROM outbox WHERE dedupe_key = 'lane-lookup-429:C0LANER:main'`,
        )
      ).rows[0] as { status: string; attempts: number } | undefined;
    await waitFor(async () => (await row())?.status === "done", 20_000, "delivered");
    // One attempt failed (the lost answer), one succeeded; the 429 on the lookup cost none.
    expect((await row())?.attempts).toBe(2);
    expect(t.slack.callsTo("conversations.history").map((c) => c.status)).toEqual([429, 200]);
    expect(t.slack.messages("C0LANER").map((m) => m.text)).toEqual(["C0LANER main"]);
  });

  it("does not look for a message whose job was only put back (not due yet), and posts it once", async () => {
    t.slack.reset();
    const key = "deferred:C0DEFER:notice";
    await recordEffect(
      { db: app.db, queues },
      {
        kind: "slack.post",
        dedupeKey: key,
        payload: { key, channel: "C0DEFER", text: "notice" },
        availableAt: new Date(Date.now() + 1_500),
      },
    );
    await waitFor(() => t.slack.messages("C0DEFER").length > 0, 20_000, "posted");
    expect(t.slack.messages("C0DEFER").map((m) => m.text)).toEqual(["notice"]);
    expect(t.slack.callsTo("conversations.history").length).toBe(0);
  });

  it("after a worker died mid-post, the reconciler's job finds the message that landed", async () => {
    t.slack.reset();
    // The channel's messages, recorded; the job first queued for them died (not queued here).
    const main = "died:C0DIED1:main";
    const ids = await record("C0DIED1", "died", [{ n: "main" }, { n: "reply", reply: true }], {
      queue: false,
    });
    // What it left: its first message in the channel with its key, nothing recorded.
    const landed = await new WebClient(t.env.SLACK_BOT_TOKEN, { slackApiUrl: t.slack.url }).chat.postMessage({
      channel: "C0DIED1",
      text: "C0DIED1 main",
      metadata: { event_type: MESSAGE_KEY_EVENT, event_payload: { key: main } },
    });
    // As the reconciler queues a channel's pending messages.
    await queues.enqueue("deliver-channel", { outboxIds: ids, recovered: true }, { jobId: "recovered-lane" });
    await waitFor(() => t.slack.messages("C0DIED1").length >= 2, 20_000, "the reply");
    await new Promise((r) => setTimeout(r, 1_000));
    const [first, reply, ...more] = t.slack.messages("C0DIED1");
    expect(first?.ts).toBe(landed.ts);
    expect(reply?.thread_ts).toBe(landed.ts);
    expect(more).toEqual([]);
    const recorded = await t.owner.db.execute(sql`SELECT ts FROM slack_messages WHERE key = ${main}`);
    expect(recorded.rows[0]?.ts).toBe(landed.ts);
  });

  it("outlasts a Slack outage longer than the job's retries: nothing is dropped or doubled", async () => {
    t.slack.reset();
    // Jobs with two attempts 50 ms apart: before, the third 503 in a row marked a message failed.
    const short = new Queue("channels", { connection, prefix: t.env.REDIS_PREFIX ?? "" });
    const ids = await record("C0OUTAGE", "outage", [{ n: "main" }, { n: "r0", reply: true }], {
      queue: false,
    });
    t.slack.failNext("chat.postMessage", { status: 503 }, 4);
    await short.add(
      "deliver-channel",
      { outboxIds: ids },
      { jobId: channelJobId(ids), attempts: 2, backoff: { type: "fixed", delay: 50 } },
    );
    await waitFor(() => t.slack.messages("C0OUTAGE").length === 2, 20_000, "both messages after the outage");
    await short.close();
    const [main, reply] = t.slack.messages("C0OUTAGE");
    expect([main?.text, reply?.text]).toEqual(["C0OUTAGE main", "C0OUTAGE r0"]);
    expect(reply?.thread_ts).toBe(main?.ts);
    expect(t.slack.callsTo("chat.postMessage").map((c) => c.status)).toEqual([503, 503, 503, 503, 200, 200]);
    const rows = (
      await t.owner.db.execute(
        sql`SELECT status, attempts FROM outbox WHERE dedupe_key LIKE 'outage:%' ORDER BY id`,
      )
    ).rows.map((r) => [r.status, Number(r.attempts)]);
    // Five tries of the main message (four 503s, then the post), one of the reply.
    expect(rows).toEqual([
      ["done", 5],
      ["done", 1],
    ]);
  });

  it("does not fail a message for failures of the messages before it in its channel job", async () => {
    t.slack.reset();
    const short = new Queue("channels", { connection, prefix: t.env.REDIS_PREFIX ?? "" });
    const ids = await record("C0SPENT", "spent", [{ n: "main" }, { n: "tail" }], { queue: false });
    // The main message's 503s use up the job's two attempts; then the tail's one odd answer
    // (a 400) must not count as the tail's last try.
    t.slack.failNext("chat.postMessage", { status: 503 }, 2);
    await short.add(
      "deliver-channel",
      { outboxIds: ids },
      { jobId: channelJobId(ids), attempts: 2, backoff: { type: "fixed", delay: 50 } },
    );
    await waitFor(() => t.slack.messages("C0SPENT").length === 1, 20_000, "the main message");
    t.slack.failNext("chat.postMessage", { status: 400 }, 1);
    await waitFor(() => t.slack.messages("C0SPENT").length === 2, 20_000, "the tail after its 400");
    await short.close();
    expect(t.slack.messages("C0SPENT").map((m) => m.text)).toEqual(["C0SPENT main", "C0SPENT tail"]);
  });

  it("fails one message that can never be posted and still delivers the rest", async () => {
    t.slack.reset();
    await record("C0LANED", "lane-broken", [{ n: "main" }, { n: "big", big: true }, { n: "tail" }]);
    const statuses = async () =>
      (
        await t.owner.db.execute(
          sql`SELECT status FROM outbox WHERE dedupe_key LIKE 'lane-broken:%' ORDER BY id`,
        )
      ).rows.map((r) => r.status);
    await waitFor(async () => !(await statuses()).includes("pending"), 20_000, "every message settled");
    expect(await statuses()).toEqual(["done", "failed", "done"]);
    expect(t.slack.messages("C0LANED").map((m) => m.text)).toEqual(["C0LANED main", "C0LANED tail"]);
  });
});
