import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postSigned, signSlackBody, slashCommand } from "../support/sign-slack.js";
import { startTestApp, TEST_SIGNING_SECRET, type TestApp } from "../support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

type Reply = {
  response_type?: string;
  text?: string;
  blocks?: Array<{ type: string; text?: { text?: string } }>;
};
const replyText = (r: Reply) => [r.text ?? "", ...(r.blocks ?? []).map((b) => b.text?.text ?? "")].join("\n");

async function rowCounts(): Promise<string> {
  const r = await t.owner.db.execute(
    sql`SELECT (SELECT count(*) FROM outbox) AS outbox, (SELECT count(*) FROM audit_events) AS audit, (SELECT count(*) FROM slack_messages) AS msgs`,
  );
  return JSON.stringify(r.rows);
}

describe("/patch help through Slack's real path", () => {
  it("answers a signed /patch help with the ephemeral help message", async () => {
    const res = await postSigned(
      t.baseUrl,
      "/slack/events",
      slashCommand({ text: "help" }, TEST_SIGNING_SECRET),
    );
    expect(res.status).toBe(200);
    const reply = res.json as Reply;
    expect(reply.response_type).toBe("ephemeral");
    expect(replyText(reply)).toContain("/patch help");
    expect(reply.text).toMatch(/^patchpilot commands:/);
  });

  it("treats an empty /patch as help", async () => {
    const res = await postSigned(t.baseUrl, "/slack/events", slashCommand({ text: "" }, TEST_SIGNING_SECRET));
    expect(replyText(res.json as Reply)).toContain("/patch help");
  });

  it("answers a typo with the closest command", async () => {
    const res = await postSigned(
      t.baseUrl,
      "/slack/events",
      slashCommand({ text: "hlep me" }, TEST_SIGNING_SECRET),
    );
    expect(res.status).toBe(200);
    expect(replyText(res.json as Reply)).toContain("did you mean `/patch help`?");
  });

  it("does not echo markup a user typed as a subcommand", async () => {
    const res = await postSigned(
      t.baseUrl,
      "/slack/events",
      slashCommand({ text: "<!channel>" }, TEST_SIGNING_SECRET),
    );
    const text = replyText(res.json as Reply);
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("&lt;!channel&gt;");
  });
});

describe("Slack signature matrix (QUALITY.md scenario 1)", () => {
  const now = () => Math.floor(Date.now() / 1000);

  async function expectRejected(body: string, headers: Record<string, string>) {
    const before = await rowCounts();
    const callsBefore = t.slack.calls.length;
    const res = await fetch(`${t.baseUrl}/slack/events`, { method: "POST", body, headers });
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain("/patch");
    expect(await rowCounts()).toBe(before);
    expect(t.slack.calls.length).toBe(callsBefore);
  }

  it("rejects any single-byte change to a signed body", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (pos, delta) => {
        const signed = slashCommand({ text: "help" }, TEST_SIGNING_SECRET);
        const bytes = Buffer.from(signed.body);
        const i = pos % bytes.length;
        bytes[i] = ((bytes[i] ?? 0) + delta) % 256;
        await expectRejected(bytes.toString("latin1"), signed.headers);
      }),
      { numRuns: 25 },
    );
  });

  it("rejects timestamps more than five minutes old or in the future, even when correctly signed", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 301, max: 86_400 }), fc.boolean(), async (skew, future) => {
        const ts = now() + (future ? skew + 5 : -(skew + 5));
        const signed = slashCommand({ text: "help" }, TEST_SIGNING_SECRET, { timestamp: ts });
        await expectRejected(signed.body, signed.headers);
      }),
      { numRuns: 20 },
    );
  });

  it.each([
    ["6 minutes old", -360],
    ["6 minutes in the future", 360],
  ])("rejects a request stamped %s", async (_label, offset) => {
    const signed = slashCommand({ text: "help" }, TEST_SIGNING_SECRET, { timestamp: now() + offset });
    await expectRejected(signed.body, signed.headers);
  });

  it("rejects a wrong secret and missing headers", async () => {
    const wrong = slashCommand({ text: "help" }, "another-apps-signing-secret");
    await expectRejected(wrong.body, wrong.headers);
    const good = slashCommand({ text: "help" }, TEST_SIGNING_SECRET);
    for (const drop of ["x-slack-signature", "x-slack-request-timestamp"]) {
      const headers = Object.fromEntries(
        Object.entries(good.headers).filter(([k]) => k.toLowerCase() !== drop),
      );
      await expectRejected(good.body, headers);
    }
  });

  it("accepts a body signed a few seconds ago (clock skew within the window)", async () => {
    const signed = signSlackBody(
      slashCommand({ text: "help" }, TEST_SIGNING_SECRET).body,
      TEST_SIGNING_SECRET,
      {
        timestamp: now() - 30,
        contentType: "application/x-www-form-urlencoded",
      },
    );
    const res = await postSigned(t.baseUrl, "/slack/events", signed);
    expect(res.status).toBe(200);
  });
});

describe("secrets in logs (QUALITY.md scenario 21)", () => {
  it("never writes the bot token or the signing secret to a log line, even for rejected requests", () => {
    expect(t.logLines.length).toBeGreaterThan(0);
    const all = t.logLines.join("\n");
    expect(all).not.toContain(TEST_SIGNING_SECRET);
    expect(all).not.toContain(t.env.SLACK_BOT_TOKEN);
  });
});
