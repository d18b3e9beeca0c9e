import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/services/upload-tokens.js";
import { postSigned, slashCommand } from "../support/sign-slack.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, TEST_SIGNING_SECRET, type TestApp } from "../support/test-app.js";
import { uploadScan } from "../support/upload-scan.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  const token = (await createToken(t.owner.db, { teamId: "search", name: "ci", scopes: ["upload"] })).token;
  await uploadScan(t, token, {
    image: "ghcr.io/acme/search-api:3",
    digestNumber: 3,
    vulns: [{ id: "CVE-2026-7001", pkg: "jackson", severity: "HIGH", fixed: "2.15.4" }],
  });
});
afterAll(async () => {
  await t?.close();
});

async function patch(text: string, channelId: string) {
  const res = await postSigned(
    t.baseUrl,
    "/slack/events",
    slashCommand({ text, channelId, userId: "U0LEE", userName: "lee" }, TEST_SIGNING_SECRET),
  );
  expect(res.status).toBe(200);
  return res.json as { text?: string; response_type?: string };
}

describe("/patch digest", () => {
  it("posts the team's digest in the asking channel now, once per request", async () => {
    const r = await patch("digest search", "C0RANDOM");
    expect(r).toMatchObject({
      response_type: "ephemeral",
      text: "Posting the digest for search in this channel now.",
    });
    await waitFor(() => t.slack.messages("C0RANDOM").length > 0, 20_000, "the digest");
    const [digest] = t.slack.messages("C0RANDOM");
    expect(String(digest?.text)).toMatch(/^Patch digest · Search · \d{4}-\d{2}-\d{2}: 0 critical, 1 high/);
    // Once: no second top-level digest follows (the outbox has nothing left for this channel).
    await waitFor(
      async () =>
        Number(
          (
            await t.owner.db.execute(
              sql`SELECT count(*)::int AS n FROM outbox WHERE status = 'pending' AND payload->>'channel' = 'C0RANDOM'`,
            )
          ).rows[0]?.n,
        ) === 0,
      20_000,
      "the digest's messages delivered",
    );
    expect(t.slack.messages("C0RANDOM").filter((m) => !m.thread_ts)).toHaveLength(1);
    // Asked for from Slack, the digest comes without a chart (uploads off): no upload, no pointer.
    expect(t.slack.callsTo("files.getUploadURLExternal")).toEqual([]);
    expect(JSON.stringify(digest?.blocks)).not.toContain("Trend chart");
  });

  it("says how to invite the bot when asked in a channel it is not in, instead of 'posting now'", async () => {
    t.slack.removeBotFrom("C0NOTIN");
    const r = await patch("digest search", "C0NOTIN");
    expect(r.text).toBe(
      "I'm not in this channel, so I can't post the digest here. Invite me with `/invite @patchpilot`, then run `/patch digest search` again.",
    );
    const rows = await t.owner.db.execute(
      sql`SELECT count(*)::int AS n FROM outbox WHERE payload->>'channel' = 'C0NOTIN'`,
    );
    expect(rows.rows[0]?.n).toBe(0);
  });

  it("defaults to the channel's team and explains an unknown team", async () => {
    expect((await patch("digest", "C0SEARCH")).text).toBe(
      "Posting the digest for search in this channel now.",
    );
    const bad = await patch("digest serch", "C0RANDOM");
    expect(bad.text).toContain("did you mean `search`?");
    const none = await patch("digest", "C0RANDOM");
    expect(none.text).toContain("Which team?");
  });
});
