import { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_TEST_URL } from "../support/databases.js";
import { postSigned, slashCommand } from "../support/sign-slack.js";
import { startTestApp, TEST_SIGNING_SECRET, type TestApp } from "../support/test-app.js";

let t: TestApp;
let connection: Redis;
beforeAll(async () => {
  t = await startTestApp();
  connection = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  connection?.disconnect();
  await t?.close();
});

type Reply = { text?: string; response_type?: string; blocks?: Array<{ text?: { text?: string } }> };
const all = (r: Reply) => [r.text ?? "", ...(r.blocks ?? []).map((b) => b.text?.text ?? "")].join("\n");

async function patch(text: string, channelId = "C0SEARCH") {
  const res = await postSigned(
    t.baseUrl,
    "/slack/events",
    slashCommand({ text, channelId, userId: "U0LEE", userName: "lee" }, TEST_SIGNING_SECRET),
  );
  expect(res.status).toBe(200);
  return res.json as Reply;
}

async function schedulers(): Promise<Array<{ key: string; pattern?: string | null; tz?: string | null }>> {
  const q = new Queue("digests", { connection, prefix: t.env.REDIS_PREFIX ?? "" });
  try {
    return (await q.getJobSchedulers(0, -1)).map((s) => ({
      key: s.key,
      pattern: s.pattern ?? null,
      tz: s.tz ?? null,
    }));
  } finally {
    await q.close();
  }
}

describe("/patch subscribe and unsubscribe", () => {
  it("registers the config file's digests at start-up", async () => {
    const s = await schedulers();
    expect(s.map((x) => `${x.pattern} ${x.tz}`).sort()).toEqual([
      "0 9 * * 1 Europe/Berlin",
      "30 8 * * 1 America/New_York",
    ]);
  });

  it("subscribes this channel on a cron and zone, schedules it, and lists what the channel gets", async () => {
    const r = await patch('subscribe "0 16 * * 5" Europe/Berlin search payments');
    expect(r.response_type).toBe("ephemeral");
    expect(r.text).toBe(
      "Subscribed: the digest for payments, search will be posted here (0 16 * * 5, Europe/Berlin).",
    );
    expect(all(r)).toContain("(from patchpilot.yaml: change it there)");
    expect((await schedulers()).map((x) => x.pattern)).toContain("0 16 * * 5");
    const again = await patch('subscribe "0 16 * * 5" Europe/Berlin payments search');
    expect(again.text).toBe("This channel already has that subscription; nothing changed.");
  });

  it.each([
    ['subscribe "0 25 * * 1"', "is not a cron expression"],
    ["subscribe Mars/Olympus", "unknown time zone `Mars/Olympus`"],
    ["subscribe paymnts", "did you mean the team `payments`?"],
  ])("answers %s with what to type", async (text, message) => {
    const r = await patch(text);
    expect(all(r)).toContain(message);
    expect(all(r)).toContain('/patch subscribe "0 9 * * 1" Europe/Berlin payments');
  });

  it("refuses to subscribe a channel the bot is not in, saying how to invite it, and records nothing", async () => {
    t.slack.removeBotFrom("C0NOTIN");
    const r = await patch('subscribe "0 9 * * 1" Europe/Berlin payments', "C0NOTIN");
    expect(r.response_type).toBe("ephemeral");
    expect(all(r)).toContain("I'm not in this channel, so I can't post digests here.");
    expect(all(r)).toContain("`/invite @patchpilot`");
    expect(all(r)).toContain('run `/patch subscribe "0 9 * * 1" Europe/Berlin payments` again');
    const rows = await t.owner.db.execute(
      sql`SELECT count(*)::int AS n FROM digest_subscriptions WHERE channel = 'C0NOTIN'`,
    );
    expect(rows.rows[0]?.n).toBe(0);
  });

  it("unsubscribes what Slack made and leaves the config file's digest, saying so", async () => {
    const r = await patch("unsubscribe");
    expect(r.text).toBe("Unsubscribed: 1 digest subscription removed from this channel.");
    expect((await schedulers()).map((x) => x.pattern)).not.toContain("0 16 * * 5");
    const again = await patch("unsubscribe");
    expect(again.text).toContain("this channel's digests come from patchpilot.yaml");
  });
});
