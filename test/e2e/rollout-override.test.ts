import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLLOUT_ACTIONS } from "../../src/core/rollout/rollout-card-view.js";
import { digestOf } from "../support/report-builders.js";
import {
  auditRowsOf,
  dispatchesOf,
  ROLLOUT_CONFIG,
  type RolloutHarness,
  startRolloutHarness,
  startToFirstApproval,
  USERS,
} from "../support/rollout-harness.js";
import { postSigned, reasonValue, viewSubmission, viewSubmissionPayload } from "../support/sign-slack.js";
import { waitFor } from "../support/spawn-cli.js";
import { TEST_SIGNING_SECRET } from "../support/test-app.js";

// Staging lets security override a candidate that brings a new critical.
const YAML = ROLLOUT_CONFIG.replace(
  "  staging: { approvals: 1 }",
  "  staging: { approvals: 1, overrideGroup: S0SECURITY }",
);

let h: RolloutHarness;
beforeAll(async () => {
  h = await startRolloutHarness({ yaml: YAML });
  await h.upload(1, [{ id: "CVE-2026-1111", pkg: "openssl", severity: "HIGH", fixed: "3.0.15" }]);
});
afterAll(async () => {
  await h?.close();
});

describe("scan before deploy: a candidate that introduces a critical", () => {
  it("is refused to approvers, and approved by the override group only with a reason given in a dialog", async () => {
    const id = await startToFirstApproval(h, {
      candidate: 2,
      vulns: [{ id: "CVE-2026-6666", pkg: "glibc", severity: "CRITICAL", fixed: "2.41" }],
    });
    await waitFor(() => /CVE-2026-6666/.test(h.cardText()), 10_000, "the card naming the blocking finding");
    const value = { rollout: id, stage: "staging", digest: digestOf(2) };

    const maria = await h.click(ROLLOUT_ACTIONS.approve, value, USERS.maria);
    expect(maria).toContain("introduces CVE-2026-6666 (glibc)");
    expect(maria).toContain("Only <!subteam^S0SECURITY> can approve it");
    expect(dispatchesOf(h, id, "staging")).toHaveLength(0);

    // Security clicks: a dialog asks for the reason instead of a refusal.
    await h.click(ROLLOUT_ACTIONS.approve, value, USERS.sec);
    await waitFor(
      () => h.t.slack.views().some((v) => v.view.callback_id === "rollout_approve_confirm"),
      10_000,
      "the dialog",
    );
    const dialog = h.t.slack.views().find((v) => v.view.callback_id === "rollout_approve_confirm");
    expect(JSON.stringify(dialog?.view.blocks)).toContain("CVE-2026-6666");
    const payload = viewSubmissionPayload({
      view: dialog,
      user: USERS.sec,
      values: reasonValue("glibc CVE not reachable: no NSS lookups"),
    });
    const res = await postSigned(h.t.baseUrl, "/slack/events", viewSubmission(payload, TEST_SIGNING_SECRET));
    expect(res.status).toBe(200);
    await waitFor(() => dispatchesOf(h, id, "staging").length === 1, 15_000, "the staging dispatch");

    const approved = (await auditRowsOf(h, id)).filter((r) => r.action === "stage.approved");
    expect(approved).toHaveLength(1);
    expect(approved[0]).toMatchObject({
      actor_id: USERS.sec.id,
      payload: { override: true, reason: "glibc CVE not reachable: no NSS lookups" },
    });
  });
});
