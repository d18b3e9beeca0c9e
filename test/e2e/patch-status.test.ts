import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { createToken } from "../../src/services/upload-tokens.js";
import type { SyntheticVuln } from "../support/report-builders.js";
import { postSigned, slashCommand } from "../support/sign-slack.js";
import { replyText, type SlackReply } from "../support/slack-reply.js";
import { startTestApp, TEST_SIGNING_SECRET, type TestApp } from "../support/test-app.js";
import { uploadScan } from "../support/upload-scan.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  const token = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })).token;
  const upload = (image: string, digestNumber: number, vulns: SyntheticVuln[]) =>
    uploadScan(t, token, { image, digestNumber, vulns });
  await upload("ghcr.io/acme/payments-api:1.4", 1, [
    { id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" },
    { id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH" },
    { id: "CVE-2026-3333", pkg: "curl", severity: "MEDIUM", fixed: "8.11.1" },
  ]);
  await upload("ghcr.io/acme/ledger-worker:2.0", 2, [
    { id: "CVE-2026-4444", pkg: "expat", severity: "HIGH", fixed: "2.6.4" },
  ]);
});
afterAll(async () => {
  await t?.close();
});

async function patch(text: string, channelId = "C0GENERAL") {
  const res = await postSigned(
    t.baseUrl,
    "/slack/events",
    slashCommand({ text, channelId, userId: "U0MARIA", userName: "maria" }, TEST_SIGNING_SECRET),
  );
  expect(res.status).toBe(200);
  const reply = res.json as SlackReply;
  expect(checkBlockKitLimits({ text: reply.text ?? "", blocks: reply.blocks ?? [] }, "message")).toEqual([]);
  return reply;
}

describe("/patch status", () => {
  it("answers an image with its counts, fixable findings and the latest scan, only to the caller", async () => {
    const r = await patch("status payments-api");
    expect(r.response_type).toBe("ephemeral");
    expect(r.text).toContain("payments-api (team Payments): 1 critical, 1 high, 1 medium");
    expect(replyText(r)).toContain("2 fixable");
    expect(replyText(r)).toContain(
      "Base image `node:22-bookworm-slim` · not checked against its registry yet",
    );
  });

  it("answers a team with its images ranked by risk", async () => {
    const r = await patch("status payments");
    const text = replyText(r);
    expect(text.indexOf("payments-api")).toBeGreaterThan(-1);
    expect(text.indexOf("payments-api")).toBeLessThan(text.indexOf("ledger-worker"));
  });

  it("answers the caller's teams when asked with no argument in a team channel", async () => {
    const r = await patch("status", "C0PAYMENTS");
    expect(replyText(r)).toContain("payments");
  });

  it("shares in the channel with --share", async () => {
    expect((await patch("status payments-api --share")).response_type).toBe("in_channel");
  });

  it("suggests the closest name for a typo", async () => {
    const r = await patch("status paymnts-api");
    expect(r.response_type).toBe("ephemeral");
    expect(replyText(r)).toContain("payments-api");
  });
});
