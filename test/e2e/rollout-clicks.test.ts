import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLLOUT_ACTIONS } from "../../src/core/rollout/rollout-card-view.js";
import { digestOf } from "../support/report-builders.js";
import {
  auditRowsOf,
  dispatchesOf,
  finishRollout,
  type RolloutHarness,
  startRolloutHarness,
  startToFirstApproval,
  USERS,
  type User,
} from "../support/rollout-harness.js";
import {
  postSigned,
  reasonValue,
  slackTestIds,
  viewSubmission,
  viewSubmissionPayload,
} from "../support/sign-slack.js";
import { waitFor } from "../support/spawn-cli.js";
import { TEST_SIGNING_SECRET } from "../support/test-app.js";

/**
 * QUALITY.md scenarios 3–7 and 15: replayed, concurrent, refused, stale and racing clicks, all
 * through signed Slack requests to the app running in-process, checked against the audit trail
 * and the fake GitHub's dispatches.
 */

// Production without its dialog (so several people can click at once) and a 3-of-M quorum.
const CLICKS_CONFIG = `
version: 1
teams:
  - id: payments
    name: Payments
    channel: C0PAYMENTS
    approvers: { groups: [S0PAYAPPR], users: [] }
images:
  - id: payments-api
    repository: ghcr.io/acme/payments-api
    team: payments
    github:
      repo: acme/payments-api
      workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml }
defaultStages: [rebuild, staging, production]
stages:
  rebuild: { approvals: 0 }
  staging: { approvals: 1 }
  production:
    approvals: 3
    requiredGroups: [S0SECURITY]
    confirm: false
`;

// The same fleet, with a staging approval request that expires after one second.
const EXPIRY_CONFIG = CLICKS_CONFIG.replace(
  "staging: { approvals: 1 }",
  "staging: { approvals: 1, expiry: 1s }",
);

const REJECT_DELAYS_MS = [0, 40, 120, 400];

const EXTRA: User[] = [
  { id: "U0APPR1", name: "ana" },
  { id: "U0APPR2", name: "ben" },
  { id: "U0APPR3", name: "cho" },
];

let h: RolloutHarness;
/** A second app whose staging approval requests expire after 1 s, with a rollout awaiting it. */
let e: RolloutHarness;
let expiring: { id: number; askedAt: number };
/** Every rollout this file made, for the audit completeness check (scenario 15). */
const made: Array<{ id: number }> = [];

beforeAll(async () => {
  const expiry = (async () => {
    e = await startRolloutHarness({ yaml: EXPIRY_CONFIG });
    await e.upload(1, []);
    const id = await startToFirstApproval(e, { candidate: 2 });
    expiring = { id, askedAt: Date.now() };
  })();
  h = await startRolloutHarness({ yaml: CLICKS_CONFIG });
  h.t.slack.setUsergroupMembers("S0PAYAPPR", [
    USERS.maria.id,
    USERS.omar.id,
    USERS.lee.id,
    ...EXTRA.map((u) => u.id),
  ]);
  await h.upload(1, [{ id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" }]);
  await expiry;
});
afterAll(async () => {
  await Promise.all([h?.close(), e?.close()]);
});

const button = (rollout: number, stage: string, digest: string | null) => ({ rollout, stage, digest });

async function start(candidate: number): Promise<number> {
  const id = await startToFirstApproval(h, { candidate });
  made.push({ id });
  expect(await h.stageState(id, "staging")).toBe("awaiting_approval");
  return id;
}

/** Approves staging as maria and completes its run, so production awaits approval. */
async function toProduction(id: number, candidate: number): Promise<void> {
  expect(
    await h.click(ROLLOUT_ACTIONS.approve, button(id, "staging", digestOf(candidate)), USERS.maria),
  ).toMatch(/Approved/);
  await waitFor(() => dispatchesOf(h, id, "staging").length === 1, 15_000, "the staging dispatch");
  await waitFor(
    async () => (await h.stageState(id, "staging")) === "dispatched",
    10_000,
    "staging dispatched",
  );
  const run = dispatchesOf(h, id, "staging")[0];
  expect((await h.webhook(h.github.completeRun(run?.runId ?? 0, "success"), "completed")).status).toBe(200);
  expect(await h.stageState(id, "production")).toBe("awaiting_approval");
}

/** Waits until no github.dispatch intent is still pending, so "no dispatch" is final. */
async function dispatchIntentsSettled(harness: RolloutHarness): Promise<void> {
  await waitFor(
    async () =>
      (
        await harness.t.owner.pool.query(
          "SELECT 1 FROM outbox WHERE kind = 'github.dispatch' AND status NOT IN ('done', 'failed', 'skipped')",
        )
      ).rowCount === 0,
    15_000,
    "dispatch intents to settle",
  );
}

const count = (
  rows: Array<{ action: string; outcome: string; resource: Record<string, unknown> }>,
  action: string,
  outcome: string,
  stage?: string,
) =>
  rows.filter(
    (r) =>
      r.action === action && r.outcome === outcome && (stage === undefined || r.resource.stage === stage),
  ).length;

describe("rollout clicks (QUALITY.md scenarios 3–7, 15)", () => {
  it("scenario 3: one approve click replayed 50 times (20 at once) changes the stage once and dispatches once", async () => {
    const id = await start(2);
    const value = button(id, "staging", digestOf(2));
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, () => h.click(ROLLOUT_ACTIONS.approve, value, USERS.maria)),
    );
    const sequential: string[] = [];
    for (let i = 0; i < 30; i++) sequential.push(await h.click(ROLLOUT_ACTIONS.approve, value, USERS.maria));
    const answers = [...concurrent, ...sequential];

    expect(answers.filter((a) => /✅ Approved/.test(a))).toHaveLength(1);
    const replays = answers.filter((a) => !/✅ Approved/.test(a));
    expect(replays).toHaveLength(49);
    for (const a of replays)
      expect(a).toMatch(
        /already approved by <@U0MARIA> at \d{4}-\d\d-\d\d \d\d:\d\d UTC|You already approved this at \d{4}-\d\d-\d\dT\d\d:\d\dZ/,
      );

    await waitFor(() => dispatchesOf(h, id, "staging").length > 0, 15_000, "the staging dispatch");
    await dispatchIntentsSettled(h);
    expect(dispatchesOf(h, id, "staging")).toHaveLength(1);
    const rows = await auditRowsOf(h, id);
    expect(count(rows, "stage.approved", "ok", "staging")).toBe(1);
    expect(count(rows, "stage.dispatched", "ok", "staging")).toBe(1);
    // A replay is not a refusal: nothing else was written about staging by maria.
    expect(rows.filter((r) => r.resource.stage === "staging" && r.actor_id === USERS.maria.id)).toHaveLength(
      1,
    );
    expect(await h.stageState(id, "staging")).toBe("dispatched");
    expect(await finishRollout(h, id)).toBe("cancelled");
    // No click waited for Slack before its ack: the bot's identity was asked once, not per click.
    expect(h.t.slack.callsTo("auth.test").length).toBeLessThanOrEqual(1);
  });

  it("scenario 4: several approvers clicking at once are all counted; the quorum dispatches production once", async () => {
    const id = await start(3);
    await toProduction(id, 3);
    const value = button(id, "production", digestOf(3));

    // Three approvers without security at once: every vote is recorded, the quorum still waits for security.
    const first = await Promise.all(
      [USERS.maria, USERS.omar, EXTRA[0] as User].map((u) => h.click(ROLLOUT_ACTIONS.approve, value, u)),
    );
    for (const a of first) expect(a).toMatch(/You approved \*production\*\. Still needed: .*S0SECURITY/);
    let rows = await auditRowsOf(h, id);
    expect(count(rows, "stage.approved", "ok", "production")).toBe(3);
    const votes = await h.t.owner.pool.query(
      "SELECT a.user_id FROM approvals a JOIN rollout_stages s ON s.id = a.stage_id WHERE s.rollout_id = $1 AND s.name = 'production'",
      [id],
    );
    expect(votes.rows.map((r) => r.user_id).sort()).toEqual(
      [USERS.maria.id, USERS.omar.id, "U0APPR1"].sort(),
    );
    expect(dispatchesOf(h, id, "production")).toHaveLength(0);

    // Security and two more at once: security completes the quorum; exactly one dispatch.
    const second = await Promise.all(
      [USERS.sec, EXTRA[1] as User, EXTRA[2] as User].map((u) => h.click(ROLLOUT_ACTIONS.approve, value, u)),
    );
    await waitFor(() => dispatchesOf(h, id, "production").length > 0, 15_000, "the production dispatch");
    await dispatchIntentsSettled(h);
    expect(dispatchesOf(h, id, "production")).toHaveLength(1);
    rows = await auditRowsOf(h, id);
    const counted = second.filter((a) => /You approved|✅ Approved/.test(a)).length;
    expect(second.some((a) => /✅ Approved/.test(a))).toBe(true);
    // Every vote that was answered as counted is in the trail; the rest were told it was already approved.
    expect(count(rows, "stage.approved", "ok", "production")).toBe(3 + counted);
    for (const a of second.filter((x) => !/You approved|✅ Approved/.test(x)))
      expect(a).toMatch(/already approved by/);
    expect(count(rows, "stage.dispatched", "ok", "production")).toBe(1);
    const approvers = rows.filter((r) => r.action === "stage.approved" && r.resource.stage === "production");
    expect(approvers.map((r) => r.actor_id)).toContain(USERS.sec.id);
    expect(await finishRollout(h, id)).toBe("done");
  });

  it("scenario 5: self-approval and a non-approver are refused, told why, audited as denied, nothing dispatched", async () => {
    const id = await start(4);
    const value = button(id, "staging", digestOf(4));
    const self = await h.click(ROLLOUT_ACTIONS.approve, value, USERS.lee);
    expect(self).toContain("You requested this rollout, so someone else must approve it (four-eyes)");
    const outsider = await h.click(ROLLOUT_ACTIONS.approve, value, USERS.outsider);
    expect(outsider).toContain("You are not an approver for this stage");
    expect(outsider).toContain("<!subteam^S0PAYAPPR>");

    await dispatchIntentsSettled(h);
    expect(dispatchesOf(h, id, "staging")).toHaveLength(0);
    expect(await h.stageState(id, "staging")).toBe("awaiting_approval");
    const denied = (await auditRowsOf(h, id)).filter(
      (r) => r.action === "stage.approve" && r.outcome === "denied",
    );
    expect(denied.map((r) => [r.actor_id, r.payload.code])).toEqual([
      [USERS.lee.id, "four_eyes"],
      [USERS.outsider.id, "not_eligible"],
    ]);
    expect(await finishRollout(h, id)).toBe("cancelled");
  });

  it("scenario 6: a button for an older candidate is refused, and votes for it stop counting", async () => {
    const id = await start(5);
    await toProduction(id, 5);
    // Two of three votes for candidate 5, then the build publishes candidate 6.
    for (const u of [USERS.maria, USERS.omar])
      expect(await h.click(ROLLOUT_ACTIONS.approve, button(id, "production", digestOf(5)), u)).toMatch(
        /You approved/,
      );
    await h.upload(6, [], id);
    await waitFor(
      async () =>
        (
          await h.t.owner.pool.query("SELECT 1 FROM rollouts WHERE id = $1 AND candidate_digest = $2", [
            id,
            digestOf(6),
          ])
        ).rowCount === 1,
      10_000,
      "the new candidate",
    );

    const stale = await h.click(ROLLOUT_ACTIONS.approve, button(id, "production", digestOf(5)), USERS.sec);
    expect(stale).toContain("This button was for an older candidate image");
    // With the new digest, security's vote alone is not a quorum: the old votes no longer count.
    const fresh = await h.click(ROLLOUT_ACTIONS.approve, button(id, "production", digestOf(6)), USERS.sec);
    expect(fresh).toMatch(/You approved \*production\*\. Still needed/);
    await dispatchIntentsSettled(h);
    expect(dispatchesOf(h, id, "production")).toHaveLength(0);
    expect(await h.stageState(id, "production")).toBe("awaiting_approval");
    const rows = await auditRowsOf(h, id);
    expect(
      rows.filter(
        (r) => r.action === "stage.approve" && r.outcome === "denied" && r.payload.code === "superseded",
      ),
    ).toHaveLength(1);
    expect(await finishRollout(h, id)).toBe("cancelled");
  });

  it("scenario 7: approve and reject racing never dispatch without an approval, nor both dispatch and reject", async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < REJECT_DELAYS_MS.length; round++) {
      const id = await start(10 + round);
      const value = button(id, "staging", digestOf(10 + round));
      // Omar opens the reject dialog first (as a person would), then submits it while maria approves.
      const viewsBefore = h.t.slack.views().length;
      await h.click(ROLLOUT_ACTIONS.reject, value, USERS.omar, { wait: false });
      await waitFor(() => h.t.slack.views().length > viewsBefore, 10_000, "the reject dialog");
      const view = h.t.slack.views().at(-1);
      expect(view?.view.callback_id).toBe("rollout_reject_reason");
      // The approve click does more work before its transaction than the dialog does, so the
      // reject is held back a little more each round to let either side win.
      const [approved] = await Promise.all([
        h.click(ROLLOUT_ACTIONS.approve, value, USERS.maria),
        sleep(REJECT_DELAYS_MS[round] ?? 0).then(() => submitReject(view, USERS.omar, "wrong image tag")),
      ]);

      await waitFor(
        async () => ["dispatched", "rejected"].includes((await h.stageState(id, "staging")) ?? ""),
        15_000,
        "staging to be dispatched or rejected",
      );
      await dispatchIntentsSettled(h);
      const rows = await auditRowsOf(h, id);
      const staging = rows.filter((r) => r.resource.stage === "staging");
      const dispatches = dispatchesOf(h, id, "staging");
      const rejected = staging.find((r) => r.action === "stage.rejected" && r.outcome === "ok");
      const approval = staging.find((r) => r.action === "stage.approved" && r.outcome === "ok");
      const dispatchedRow = staging.find((r) => r.action === "stage.dispatched" && r.outcome === "ok");
      expect(dispatches.length).toBeLessThanOrEqual(1);
      if (dispatches.length === 1) {
        outcomes.push("dispatched");
        // Never an un-audited dispatch: the approval comes before the dispatch in the trail.
        expect(approval).toBeDefined();
        expect(dispatchedRow).toBeDefined();
        expect(approval?.seq ?? Infinity).toBeLessThan(dispatchedRow?.seq ?? 0);
        // The reject came after: it was refused, and said so.
        expect(rejected).toBeUndefined();
        expect(staging.some((r) => r.action === "stage.reject" && r.outcome === "denied")).toBe(true);
        expect(await h.stageState(id, "staging")).toMatch(/dispatched|deploying/);
      } else {
        outcomes.push(approval ? "approved-then-rejected" : "rejected");
        expect(rejected).toBeDefined();
        expect(dispatchedRow).toBeUndefined();
        expect(await h.stageState(id, "staging")).toBe("rejected");
        // The approval lost: either refused, or counted before the reject and then never dispatched.
        if (approval) expect(approval.seq).toBeLessThan(rejected?.seq ?? 0);
        else expect(approved).toMatch(/cannot approve/);
      }
      expect(await finishRollout(h, id)).toMatch(/cancelled|done/);
    }
    expect(outcomes).toHaveLength(REJECT_DELAYS_MS.length);
  });

  it("scenario 6: an expired request is refused and audited, and the card's Ask again works", async () => {
    const id = expiring.id;
    {
      const left = expiring.askedAt + 1_300 - Date.now();
      if (left > 0) await new Promise((r) => setTimeout(r, left));
      const late = await e.click(ROLLOUT_ACTIONS.approve, button(id, "staging", digestOf(2)), USERS.maria);
      expect(late).toMatch(/expired/);
      await dispatchIntentsSettled(e);
      expect(dispatchesOf(e, id, "staging")).toHaveLength(0);
      expect(await e.stageState(id, "staging")).toBe("expired");
      const rows = await auditRowsOf(e, id);
      expect(rows.some((r) => r.action === "stage.approve" && r.outcome === "denied")).toBe(true);

      const card = () => {
        const m = e.t.slack
          .messages("C0PAYMENTS")
          .find((x) => !x.thread_ts && (x.text ?? "").includes(`Rollout #${id}`));
        return m ? JSON.stringify(m.blocks) : "";
      };
      await waitFor(() => card().includes(ROLLOUT_ACTIONS.requestAgain), 10_000, "Ask again on the card");
      const again = await e.click(
        ROLLOUT_ACTIONS.requestAgain,
        button(id, "staging", digestOf(2)),
        USERS.maria,
      );
      expect(again).toContain("Approval for *staging* requested again");
      expect(await e.stageState(id, "staging")).toBe("awaiting_approval");
      const after = await auditRowsOf(e, id);
      expect(
        after.filter((r) => r.action === "stage.approval_requested" && r.actor_id === USERS.maria.id),
      ).toHaveLength(1);
      await checkAuditRows(e, [id]);
    }
  });

  it("scenario 15: every audit row of these rollouts says who, what, when, outcome, origin and resource", async () => {
    const ids = made.map((m) => m.id);
    expect(ids.length).toBeGreaterThanOrEqual(7);
    await checkAuditRows(h, ids);
  });

  // `rollout.requested` is written before a candidate exists: it names the digest being patched.
  it("scenario 15: rollout.requested names the digest being patched", async () => {
    const requested = (await auditRowsOf(h, made[0]?.id ?? 0)).find((r) => r.action === "rollout.requested");
    expect(requested?.resource.digest).toBe(digestOf(1));
  });
});

async function submitReject(
  view: ReturnType<RolloutHarness["t"]["slack"]["views"]>[number] | undefined,
  user: User,
  reason: string,
): Promise<void> {
  const payload = viewSubmissionPayload({ view, user, values: reasonValue(reason) });
  const res = await postSigned(h.t.baseUrl, "/slack/events", viewSubmission(payload, TEST_SIGNING_SECRET));
  expect(res.status).toBe(200);
}

/** Scenario 15's check, over every row of the given rollouts. */
async function checkAuditRows(harness: RolloutHarness, ids: number[]): Promise<void> {
  for (const id of ids) {
    const rows = await auditRowsOf(harness, id);
    expect(rows.length).toBeGreaterThan(3);
    for (const r of rows) {
      const where = `rollout #${id} seq ${r.seq} ${r.action}`;
      expect(r.actor_id, where).toMatch(/^(U0[A-Z0-9]+|system)$/);
      expect(r.action, where).toMatch(/^[a-z_]+\.[a-z_]+$/);
      expect(["ok", "denied", "ignored", "refused", "failed"], where).toContain(r.outcome);
      expect(r.at, where).toBeInstanceOf(Date);
      expect(Number.isNaN(r.at.getTime()), where).toBe(false);
      expect(Math.abs(r.at.getTime() - Date.now()), where).toBeLessThan(10 * 60_000);
      const o = r.origin;
      if (o.source === "slack") {
        expect(o.team, where).toBe(slackTestIds.teamId);
        expect(o.channel, where).toBe("C0PAYMENTS");
        expect(typeof (o.actionTs ?? o.command), where).toBe("string");
      } else if (o.source === "github") {
        expect(typeof o.delivery === "string" || o.poller === true, where).toBe(true);
      } else {
        expect(typeof o.source, where).toBe("string");
        expect(String(o.source).length, where).toBeGreaterThan(0);
      }
      expect(r.resource.rollout, where).toBe(id);
      expect(r.resource.image, where).toBe("ghcr.io/acme/payments-api");
      expect(r.resource.digest, where).toMatch(/^sha256:[0-9a-f]{64}$/);
      if (/^(stage|run)\./.test(r.action)) expect(typeof r.resource.stage, where).toBe("string");
    }
  }
}
