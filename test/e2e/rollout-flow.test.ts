import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLLOUT_ACTIONS } from "../../src/core/rollout/rollout-card-view.js";
import { verifyAuditTrail } from "../../src/services/audit/verify-audit-trail.js";
import { digestOf } from "../support/report-builders.js";
import { type RolloutHarness, startRolloutHarness, USERS } from "../support/rollout-harness.js";
import { postSigned, viewSubmission, viewSubmissionPayload } from "../support/sign-slack.js";
import { waitFor } from "../support/spawn-cli.js";
import { TEST_SIGNING_SECRET } from "../support/test-app.js";

let h: RolloutHarness;
beforeAll(async () => {
  h = await startRolloutHarness();
  await h.upload(1, [
    { id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" },
    { id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH", fixed: "1.3.1" },
    { id: "CVE-2026-3333", pkg: "curl", severity: "MEDIUM" },
  ]);
});
afterAll(async () => {
  await h?.close();
});

const approveValue = (rollout: number, stage: string, digest: string | null) => ({ rollout, stage, digest });

/** Presses the production dialog's Approve button as the given user. */
async function submitApproveDialog(user: { id: string; name: string }) {
  const view = h.t.slack.views().at(-1);
  expect(view?.view.callback_id).toBe("rollout_approve_confirm");
  const payload = viewSubmissionPayload({ view, user });
  const res = await postSigned(h.t.baseUrl, "/slack/events", viewSubmission(payload, TEST_SIGNING_SECRET));
  expect(res.status).toBe(200);
}

describe("a rollout from /patch rollout to production", () => {
  it("walks rebuild → staging → production with signed clicks and webhooks, dispatching each stage once", async () => {
    const started = await h.patch('rollout payments-api --reason "openssl CVE-2026-1111"', USERS.lee);
    expect(started.text).toMatch(/Rollout #(\d+) of payments-api started/);
    const rolloutId = Number(/#(\d+)/.exec(started.text ?? "")?.[1]);

    // The rebuild needs no approval: the build workflow is dispatched at once, with our inputs.
    const [build] = await h.waitForDispatches(1);
    expect(build?.workflow).toBe("build.yml");
    expect(build?.inputs).toMatchObject({
      rollout_id: String(rolloutId),
      stage: "rebuild",
      image: "ghcr.io/acme/payments-api",
      digest: digestOf(1),
    });
    expect(build?.inputs.dispatch_id).toMatch(/^pp-\d+-0-1-[0-9a-f]{8}$/);
    await waitFor(() => h.cardText().includes(`Rollout #${rolloutId}`), 10_000, "the card");

    // CI uploads the candidate's scan for this rollout, then the build run completes.
    await h.upload(2, [{ id: "CVE-2026-3333", pkg: "curl", severity: "MEDIUM" }], rolloutId);
    // The candidate's scan does not change posture while it is not deployed.
    const latest = async () =>
      (
        await h.t.owner.pool.query<{ latest_digest: string }>(
          "SELECT latest_digest FROM images WHERE config_id = 'payments-api'",
        )
      ).rows[0]?.latest_digest;
    expect(await latest()).toBe(digestOf(1));
    const buildRun = h.github.completeRun(build?.runId ?? 0, "success");
    const hook = await h.webhook(buildRun, "completed");
    expect(hook.status, h.t.logLines.filter((l) => /error|fail/i.test(l)).join("\n")).toBe(200);
    expect(await h.stageState(rolloutId, "rebuild")).toBe("done");
    expect(await h.stageState(rolloutId, "staging")).toBe("awaiting_approval");
    // The approvers are asked in the card's thread, by group mention.
    await waitFor(
      () =>
        h.t.slack
          .messages("C0PAYMENTS")
          .some((m) => m.thread_ts && /<!subteam\^S0PAYAPPR>/.test(m.text ?? "")),
      10_000,
      "the approval request in the thread",
    );

    // Four-eyes: the person who started it cannot approve it.
    const self = await h.click(
      ROLLOUT_ACTIONS.approve,
      approveValue(rolloutId, "staging", digestOf(2)),
      USERS.lee,
    );
    expect(self).toContain("You requested this rollout, so someone else must approve it (four-eyes)");
    // Someone outside the approver groups cannot either.
    const outsider = await h.click(
      ROLLOUT_ACTIONS.approve,
      approveValue(rolloutId, "staging", digestOf(2)),
      USERS.outsider,
    );
    expect(outsider).toContain("not an approver");
    expect(h.github.dispatches()).toHaveLength(1);

    const ok = await h.click(
      ROLLOUT_ACTIONS.approve,
      approveValue(rolloutId, "staging", digestOf(2)),
      USERS.maria,
    );
    expect(ok).toMatch(/Approved/);
    const [, staging] = await h.waitForDispatches(2);
    expect(staging).toMatchObject({
      workflow: "deploy.yml",
      inputs: { stage: "staging", digest: digestOf(2) },
    });

    h.github.setRunStatus(staging?.runId ?? 0, "in_progress");
    const running = h.github.runs().find((r) => r.id === staging?.runId);
    if (!running) throw new Error("no staging run");
    await h.webhook(structuredClone(running), "in_progress");
    expect(await h.stageState(rolloutId, "staging")).toBe("deploying");
    await h.webhook(h.github.completeRun(staging?.runId ?? 0, "success"), "completed");
    expect(await h.stageState(rolloutId, "production")).toBe("awaiting_approval");

    // Production opens a confirmation dialog; two approvals, one of them from security.
    await h.click(ROLLOUT_ACTIONS.approve, approveValue(rolloutId, "production", digestOf(2)), USERS.maria, {
      wait: false,
    });
    await waitFor(
      () => h.t.slack.views().some((v) => v.view.callback_id === "rollout_approve_confirm"),
      10_000,
      "the dialog",
    );
    await submitApproveDialog(USERS.maria);
    await waitFor(
      async () => (await h.auditActions(rolloutId)).filter((a) => a.action === "stage.approved").length === 2,
      10_000,
      "two approvals",
    );
    expect(h.github.dispatches()).toHaveLength(2);

    await h.click(ROLLOUT_ACTIONS.approve, approveValue(rolloutId, "production", digestOf(2)), USERS.sec, {
      wait: false,
    });
    await waitFor(
      () => h.t.slack.views().filter((v) => v.view.callback_id === "rollout_approve_confirm").length === 2,
      10_000,
      "the second dialog",
    );
    await submitApproveDialog(USERS.sec);
    const [, , production] = await h.waitForDispatches(3);
    expect(production).toMatchObject({
      workflow: "deploy.yml",
      inputs: { stage: "production", digest: digestOf(2) },
    });
    await h.webhook(h.github.completeRun(production?.runId ?? 0, "success"), "completed");

    const state = await h.t.owner.pool.query<{ state: string }>("SELECT state FROM rollouts WHERE id = $1", [
      rolloutId,
    ]);
    expect(state.rows[0]?.state).toBe("done");
    // Production is done: posture now describes the candidate, and the fixed findings are fixed.
    expect(await latest()).toBe(digestOf(2));
    const fixed = await h.t.owner.pool.query<{ vulnerability_id: string }>(
      "SELECT vulnerability_id FROM finding_lifecycle WHERE fixed_at IS NOT NULL ORDER BY 1",
    );
    expect(fixed.rows.map((r) => r.vulnerability_id)).toEqual(["CVE-2026-1111", "CVE-2026-2222"]);
    // The candidate's findings now carry their first sighting (the SLA clock posture reads): what
    // the running digest already had keeps its date, nothing is left without one.
    const clocks = await h.t.owner.pool.query<{ same: boolean }>(
      `SELECT f.first_seen_at IS NOT DISTINCT FROM l.first_seen_at AND f.first_seen_at IS NOT NULL AS same
       FROM images i JOIN findings f ON f.scan_id = i.latest_scan_id
       LEFT JOIN finding_lifecycle l ON l.image_id = i.id AND l.vulnerability_id = f.vulnerability_id
         AND l.package_name = f.package_name
       WHERE i.latest_digest = $1`,
      [digestOf(2)],
    );
    expect(clocks.rows.length).toBeGreaterThan(0);
    expect(clocks.rows.every((r) => r.same)).toBe(true);
    // Exactly one dispatch per stage, each with its own dispatch id.
    const dispatches = h.github.dispatches();
    expect(dispatches).toHaveLength(3);
    expect(new Set(dispatches.map((d) => d.inputs.dispatch_id)).size).toBe(3);

    // The card was updated in place to the end, and says what the rollout fixed.
    await waitFor(
      () => /done|✅/.test(h.cardText()) && !/Approve production/.test(h.cardText()),
      10_000,
      "the final card",
    );
    expect(
      h.t.slack.messages("C0PAYMENTS").filter((m) => !m.thread_ts && /Rollout #/.test(m.text ?? "")),
    ).toHaveLength(1);

    // Every decision is in the audit trail, the denials too, and the chain verifies.
    const actions = (await h.auditActions(rolloutId)).map((a) => `${a.action}:${a.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        "rollout.requested:ok",
        "stage.auto_approved:ok",
        "stage.dispatched:ok",
        "run.completed:ok",
        "stage.approval_requested:ok",
        "stage.approve:denied",
        "stage.approved:ok",
        "run.in_progress:ok",
      ]),
    );
    expect(actions.filter((a) => a === "stage.approve:denied")).toHaveLength(2);
    expect(actions.filter((a) => a === "stage.dispatched:ok")).toHaveLength(3);
    const verdict = await verifyAuditTrail(h.t.owner.db);
    expect(verdict.ok).toBe(true);
  });
});
