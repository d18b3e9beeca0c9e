import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { acceptRisk } from "../../src/services/risk/accept-risk.js";
import { createToken } from "../../src/services/upload-tokens.js";
import { digestOf, trivyReport } from "../support/report-builders.js";
import { blockActionPayload, blockActions, postSigned, slashCommand } from "../support/sign-slack.js";
import { replyText, type SlackReply } from "../support/slack-reply.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, TEST_SIGNING_SECRET, type TestApp } from "../support/test-app.js";

/** More scans than the message lists, so the older ones must be counted instead. */
const REBUILDS = 18;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  const token = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })).token;
  const upload = async (n: number, vulns: Parameters<typeof trivyReport>[0]["vulns"]) => {
    const r = await fetch(`${t.baseUrl}/api/v1/scans`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(
        trivyReport({ image: "ghcr.io/acme/payments-api:1.4", digest: digestOf(n), vulns }),
      ),
    });
    expect(r.status).toBe(201);
  };
  for (let n = 1; n <= REBUILDS; n++) {
    await upload(n, [{ id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH" }]);
  }
  // The newest scan brings in a medium; the rebuilds before it changed nothing.
  await upload(REBUILDS + 1, [
    { id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH" },
    { id: "CVE-2026-3333", pkg: "curl", severity: "MEDIUM", fixed: "8.11.1" },
  ]);
  const parsed = parseConfigText(
    await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8"),
  );
  if (!parsed.ok) throw new Error("example config invalid");
  await acceptRisk(
    { db: t.owner.db, config: parsed.config, now: () => new Date() },
    {
      vulnerabilityId: "CVE-2026-2222",
      target: { imageRef: "ghcr.io/acme/payments-api" },
      until: new Date(Date.now() + 14 * 24 * 3600 * 1000),
      reason: "zlib is only used to read our own files",
      actor: { id: "U0MARIA", name: "Maria" },
      source: "cli",
      origin: { source: "cli" },
    },
  );
});
afterAll(async () => {
  await t?.close();
});

async function patch(text: string) {
  const res = await postSigned(
    t.baseUrl,
    "/slack/events",
    slashCommand({ text, channelId: "C0GENERAL", userId: "U0MARIA", userName: "maria" }, TEST_SIGNING_SECRET),
  );
  expect(res.status).toBe(200);
  const reply = res.json as SlackReply;
  expect(checkBlockKitLimits({ text: reply.text ?? "", blocks: reply.blocks ?? [] }, "message")).toEqual([]);
  return reply;
}

describe("/patch history", () => {
  it("answers an image with its scans newest first, counting the older ones, and its accepted risks", async () => {
    const r = await patch("history payments-api");
    expect(r.response_type).toBe("ephemeral");
    expect(r.text).toContain(
      `History of payments-api: ${REBUILDS + 1} scans, 0 patches shipped, 1 accepted risk (1 active)`,
    );
    const text = replyText(r);
    expect(text).toContain("No rollouts finished yet.");
    expect(text).toContain("trivy · new 🟡 1");
    expect(text).toContain("trivy · no change");
    expect(text).toContain("…and 4 older scans");
    expect(text).toContain("zlib is only used to read our own files");
  });

  it("finds the image by its repository too, and shares in the channel with --share", async () => {
    const r = await patch("history ghcr.io/acme/payments-api --share");
    expect(r.response_type).toBe("in_channel");
    expect(r.text).toContain("History of payments-api");
  });

  it("says a team has no history of its own and points to /patch status for it", async () => {
    const r = await patch("history payments");
    expect(r.response_type).toBe("ephemeral");
    expect(replyText(r)).toContain("/patch status payments");
    expect(replyText(r)).not.toContain("History of");
  });

  it("suggests the closest image for a typo", async () => {
    const r = await patch("history paymnts-api");
    expect(r.response_type).toBe("ephemeral");
    expect(replyText(r)).toContain("payments-api");
    expect(replyText(r)).not.toContain("History of");
  });

  it("asks which image when none is named", async () => {
    const r = await patch("history");
    expect(replyText(r)).toContain("/patch history payments-api");
  });

  it("answers the History button of /patch status with the same history, only to the clicker", async () => {
    const image = await t.owner.pool.query<{ id: string }>(
      "SELECT id FROM images WHERE config_id = 'payments-api'",
    );
    const responseUrl = t.slack.responseUrl();
    const payload = blockActionPayload({
      actionId: "status_history",
      value: JSON.stringify({ imageId: image.rows[0]?.id }),
      userId: "U0SAM",
      responseUrl,
    });
    const res = await postSigned(t.baseUrl, "/slack/events", blockActions(payload, TEST_SIGNING_SECRET));
    expect(res.status).toBe(200);
    await waitFor(() => t.slack.callsTo("response_url").length > 0, 5_000, "the answer");
    const answer = t.slack.callsTo("response_url")[0]?.args;
    expect(answer?.response_type).toBe("ephemeral");
    expect(String(answer?.text)).toContain("History of payments-api");
  });
});
