import type { Button, KnownBlock } from "@slack/types";
import { describe, expect, it } from "vitest";
import { severityCounts } from "../../src/core/digest/severity-counts.js";
import {
  ROLLOUT_ACTIONS,
  type RolloutCardStage,
  type RolloutCardView,
} from "../../src/core/rollout/rollout-card-view.js";
import { assertWithinBlockKitLimits, checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderRolloutCard } from "../../src/render/render-rollout-card.js";
import { blockLines, messageText } from "../core/digest/message-text.js";

const RUNNING = `sha256:4f1c${"a".repeat(60)}`;
const CANDIDATE = `sha256:9ab0${"b".repeat(60)}`;
const at = (iso: string) => new Date(iso);
const token = (iso: string) => {
  const d = at(iso);
  return `<!date^${d.getTime() / 1000}^{date_short_pretty} {time}|${iso.slice(0, 16).replace("T", " ")} UTC>`;
};

function stage(name: string, over: Partial<RolloutCardStage> = {}): RolloutCardStage {
  return {
    name,
    kind: name === "rebuild" ? "build" : "deploy",
    state: "pending",
    approvalsRequired: name === "rebuild" || name === "staging" ? 0 : 1,
    approverGroups: name === "rebuild" || name === "staging" ? [] : ["S0PAY"],
    approverUsers: [],
    requiredGroups: [],
    confirm: false,
    missing: [],
    approvals: [],
    requestedAt: null,
    expiresAt: null,
    decidedBy: null,
    decisionReason: null,
    window: null,
    blockedReason: null,
    scheduledFor: null,
    emergency: false,
    run: null,
    dispatchedAt: null,
    completedAt: null,
    health: null,
    ...over,
  };
}

const run = (id: string) => ({
  id,
  url: `https://github.com/acme/payments-api/actions/runs/${id}`,
  status: "completed",
  conclusion: "success",
});

const rebuildDone = stage("rebuild", {
  state: "done",
  run: run("12958812"),
  dispatchedAt: at("2026-11-24T08:30:00Z"),
  completedAt: at("2026-11-24T08:41:00Z"),
});
const stagingDone = stage("staging", {
  state: "done",
  run: run("12958840"),
  dispatchedAt: at("2026-11-24T08:50:00Z"),
  completedAt: at("2026-11-24T09:05:00Z"),
});
const window = {
  name: "patch-tuesday",
  timezone: "Europe/Berlin",
  cron: "0 10 * * 2",
  duration: "6h",
  opensAt: at("2026-12-01T09:00:00Z"),
};
const productionPending = stage("production", {
  approvalsRequired: 2,
  approverGroups: ["S0PAY", "S0SEC"],
  requiredGroups: ["S0SEC"],
  confirm: true,
  window,
});
const canaryAwaiting = stage("canary", {
  state: "awaiting_approval",
  missing: ["1 more approval"],
  requestedAt: at("2026-11-24T09:12:00Z"),
  expiresAt: at("2026-11-27T08:12:00Z"),
});

function view(over: Partial<RolloutCardView> = {}): RolloutCardView {
  return {
    rolloutId: 218,
    now: at("2026-11-24T10:00:00Z"),
    image: { id: "payments-api", repository: "ghcr.io/acme/payments-api" },
    team: { id: "payments", name: "payments", channel: "C0PAY" },
    state: "active",
    trigger: "base-image",
    reason: "node:22.10 → 22.11",
    requestedBy: { id: "U0LEE", name: "lee" },
    createdAt: at("2026-11-24T08:29:00Z"),
    runningDigest: RUNNING,
    candidateDigest: CANDIDATE,
    candidateScanned: true,
    delta: {
      fixed: severityCounts({ critical: 2, high: 5 }),
      introduced: severityCounts(),
      unchanged: 48,
      blocking: [],
      fixedUrgent: [],
    },
    slaDeadline: { vulnerabilityId: "CVE-2026-1234", dueAt: at("2026-11-30T00:00:00Z") },
    stages: [rebuildDone, stagingDone, canaryAwaiting, productionPending],
    ...over,
  };
}

function buttons(blocks: readonly KnownBlock[]): Button[] {
  return blocks.flatMap((b) =>
    b.type === "actions" ? b.elements.filter((e): e is Button => e.type === "button") : [],
  );
}

const summary = (b: Button) => [b.text.text, b.action_id, b.style ?? null, b.confirm ? "confirm" : null];

describe("renderRolloutCard", () => {
  it("asks the canary's approver group for the missing approval, and says what the rollout fixes", () => {
    const m = renderRolloutCard(view());
    expect(blockLines(m.blocks)).toEqual([
      "*Rollout #218 · <https://ghcr.io/acme/payments-api|payments-api> · base image bump (node:22.10 → 22.11)*\n" +
        "`sha256:4f1caaaaaaaa…` → `sha256:9ab0bbbbbbbb…`   Fixes 🔴 2 🟠 5 · introduces none · 48 unchanged",
      "rebuild ✅ <https://github.com/acme/payments-api/actions/runs/12958812|run 12958812> · " +
        "staging ✅ <https://github.com/acme/payments-api/actions/runs/12958840|run 12958840> · " +
        `canary ⏳ awaiting 1 approval · production ⏸ (window opens ${token("2026-12-01T09:00:00Z")})`,
      `Canary needs 1 approval from <!subteam^S0PAY>. Requested by <@U0LEE> ${token("2026-11-24T09:12:00Z")} · expires ${token("2026-11-27T08:12:00Z")}.\n` +
        `Production: window patch-tuesday opens ${token("2026-12-01T09:00:00Z")} (Europe/Berlin) · needs 2 approvals incl. 1 from a required group`,
      `⏱ Meets the SLA of <https://nvd.nist.gov/vuln/detail/CVE-2026-1234|CVE-2026-1234> due ${token("2026-11-30T00:00:00Z")}`,
      "[Approve canary]   [Reject]   [Roll back]   [Cancel rollout]",
      `\`/patch audit 218\` · requested by <@U0LEE> ${token("2026-11-24T08:29:00Z")} · team payments · candidate \`sha256:9ab0bbbbbbbb…\` · rollout 218`,
    ]);
    expect(m.text).toBe("Rollout #218 of payments-api: canary awaiting 1 approval");
  });

  it("mentions the approver group only where an approval is requested", () => {
    const text = messageText(renderRolloutCard(view()).blocks);
    expect(text.match(/<!subteam\^/g)).toHaveLength(1);
    expect(text).not.toContain("S0SEC");
  });

  it("offers Approve as the only primary button and Reject as danger, bound to the candidate", () => {
    const found = buttons(renderRolloutCard(view()).blocks);
    expect(found.map(summary)).toEqual([
      ["Approve canary", ROLLOUT_ACTIONS.approve, "primary", null],
      ["Reject", ROLLOUT_ACTIONS.reject, "danger", null],
      ["Roll back", ROLLOUT_ACTIONS.rollback, "danger", "confirm"],
      ["Cancel rollout", ROLLOUT_ACTIONS.cancel, "danger", "confirm"],
    ]);
    // Roll back names the furthest stage deployed; the others the stage that needs the decision.
    expect(found.map((b) => JSON.parse(b.value ?? "null"))).toEqual([
      { rollout: 218, stage: "canary", digest: CANDIDATE },
      { rollout: 218, stage: "canary", digest: CANDIDATE },
      { rollout: 218, stage: "staging", digest: CANDIDATE },
      { rollout: 218, stage: "canary", digest: CANDIDATE },
    ]);
  });

  it("labels a production approval with … because it opens a confirmation, and lists missing groups", () => {
    const production = {
      ...productionPending,
      state: "awaiting_approval" as const,
      missing: ["1 more approval", "1 from <!subteam^S0SEC>"],
      approvals: [{ userId: "U0MARIA", userName: "maria", at: at("2026-11-24T14:02:00Z"), override: false }],
      requestedAt: at("2026-11-24T13:00:00Z"),
      window: { ...window, opensAt: null },
    };
    const canary = {
      ...canaryAwaiting,
      state: "done" as const,
      missing: [],
      dispatchedAt: at("2026-11-24T10:00:00Z"),
    };
    const m = renderRolloutCard(view({ stages: [rebuildDone, stagingDone, canary, production] }));
    const lines = blockLines(m.blocks);
    expect(lines[2]).toContain(
      "Production needs 1 more approval and 1 from <!subteam^S0SEC> (approvers: <!subteam^S0PAY> or <!subteam^S0SEC>).",
    );
    expect(lines[3]).toContain(`✅ production: approved by <@U0MARIA> · ${token("2026-11-24T14:02:00Z")}`);
    expect(buttons(m.blocks)[0]?.text.text).toBe("Approve production…");
    expect(m.text).toBe("Rollout #218 of payments-api: production awaiting 1 approval");
  });

  it("says when an approved production stage's window opens, in the window's zone", () => {
    const production = {
      ...productionPending,
      state: "approved" as const,
      scheduledFor: at("2026-12-01T09:00:00Z"),
      blockedReason: "Waiting for the patch-tuesday window (Europe/Berlin), opens 2026-12-01T09:00:00.000Z",
      approvals: [
        { userId: "U0MARIA", userName: "maria", at: at("2026-11-24T14:02:00Z"), override: false },
        { userId: "U0SAM", userName: "sam", at: at("2026-11-24T15:10:00Z"), override: false },
      ],
    };
    const canary = {
      ...canaryAwaiting,
      state: "done" as const,
      missing: [],
      dispatchedAt: at("2026-11-24T10:00:00Z"),
    };
    const m = renderRolloutCard(view({ stages: [rebuildDone, stagingDone, canary, production] }));
    const text = messageText(m.blocks);
    expect(text).toContain(`production ⏸ waits for its window, opening ${token("2026-12-01T09:00:00Z")}`);
    expect(text).toContain(
      `⏸ Production is approved and waits: window patch-tuesday opens ${token("2026-12-01T09:00:00Z")} (Europe/Berlin).`,
    );
    expect(text).toContain(
      `✅ production: approved by <@U0MARIA> · ${token("2026-11-24T14:02:00Z")}, <@U0SAM> · ${token("2026-11-24T15:10:00Z")}`,
    );
    expect(m.text).toBe(
      "Rollout #218 of payments-api: production approved, waiting for its window (2026-12-01 09:00 UTC)",
    );
    // Deployed to canary, not to production yet: rolling back or cancelling are both still possible.
    expect(buttons(m.blocks).map(summary)).toEqual([
      ["Roll back", ROLLOUT_ACTIONS.rollback, "danger", "confirm"],
      ["Cancel rollout", ROLLOUT_ACTIONS.cancel, "danger", "confirm"],
    ]);
  });

  it("shows a freeze as 🧊 with its reason", () => {
    const production = {
      ...productionPending,
      state: "approved" as const,
      blockedReason: "Frozen: year-end <freeze>",
    };
    const text = messageText(
      renderRolloutCard(view({ stages: [rebuildDone, stagingDone, production] })).blocks,
    );
    expect(text).toContain("production 🧊 frozen");
    expect(text).toContain("🧊 Production is approved but frozen: year-end &lt;freeze&gt;.");
  });

  it("warns prominently when the candidate introduces a critical, naming who can override", () => {
    const canary = { ...canaryAwaiting, missing: ["1 more approval", "an override from <!subteam^S0SEC>"] };
    const m = renderRolloutCard(
      view({
        delta: {
          fixed: severityCounts({ high: 1 }),
          introduced: severityCounts({ critical: 1, medium: 2 }),
          unchanged: 40,
          blocking: ["CVE-2026-4242 (libexpat, known exploited)"],
          fixedUrgent: [],
        },
        stages: [rebuildDone, stagingDone, canary, productionPending],
      }),
    );
    const lead = blockLines(m.blocks)[0]?.split("\n");
    expect(lead?.[1]).toContain("Fixes 🟠 1 · introduces 🔴 1 🟡 2 · 40 unchanged");
    expect(lead?.[2]).toBe(
      "⚠️ *Introduces 1 critical / known-exploited:* <https://nvd.nist.gov/vuln/detail/CVE-2026-4242|CVE-2026-4242> (libexpat, known exploited) — needs an override from <!subteam^S0SEC>",
    );
  });

  it("waits for the rebuild's scan before showing a delta, and offers no approval of an unscanned candidate", () => {
    const rebuilding = stage("rebuild", {
      state: "deploying",
      run: run("12958812"),
      dispatchedAt: at("2026-11-24T08:30:00Z"),
    });
    const m = renderRolloutCard(
      view({
        candidateDigest: null,
        candidateScanned: false,
        delta: null,
        slaDeadline: null,
        stages: [rebuilding, stage("staging"), stage("canary"), productionPending],
      }),
    );
    const lines = blockLines(m.blocks);
    expect(lines[0]).toContain("`sha256:4f1caaaaaaaa…` → candidate: waiting for the rebuild's scan");
    expect(lines[1]).toContain(
      "rebuild 🔄 building <https://github.com/acme/payments-api/actions/runs/12958812|run 12958812> · staging ⏸",
    );
    expect(lines[2]).toContain(
      "🔄 Rebuild is building the candidate (<https://github.com/acme/payments-api/actions/runs/12958812|run 12958812>).",
    );
    expect(buttons(m.blocks).map(summary)).toEqual([]);
    expect(m.text).toBe("Rollout #218 of payments-api: rebuild building");

    const scanning = renderRolloutCard(
      view({
        candidateScanned: false,
        delta: null,
        stages: [rebuildDone, stagingDone, canaryAwaiting],
      }),
    );
    expect(messageText(scanning.blocks)).toContain("It can be approved once the candidate has been scanned.");
    expect(buttons(scanning.blocks).map((b) => b.text.text)).toEqual([
      "Reject",
      "Roll back",
      "Cancel rollout",
    ]);
  });

  it("says which stage failed with its run, and offers Retry and Roll back", () => {
    const staging = stage("staging", {
      state: "failed",
      run: { ...run("12958840"), conclusion: "failure" },
      dispatchedAt: at("2026-11-24T08:50:00Z"),
      decisionReason: "Workflow run concluded: failure",
    });
    const m = renderRolloutCard(
      view({ state: "halted", stages: [rebuildDone, staging, stage("canary"), productionPending] }),
    );
    const text = messageText(m.blocks);
    expect(blockLines(m.blocks)[0]).toContain("· ⛔ halted");
    expect(text).toContain(
      "staging ❌ failed <https://github.com/acme/payments-api/actions/runs/12958840|run 12958840>",
    );
    expect(text).toContain(
      "❌ staging failed (<https://github.com/acme/payments-api/actions/runs/12958840|run 12958840>) · Workflow run concluded: failure. Retry or roll back.",
    );
    const found = buttons(m.blocks);
    expect(found.map(summary)).toEqual([
      ["Retry staging", ROLLOUT_ACTIONS.retry, "primary", null],
      ["Roll back", ROLLOUT_ACTIONS.rollback, "danger", "confirm"],
      ["Cancel rollout", ROLLOUT_ACTIONS.cancel, "danger", "confirm"],
    ]);
    expect(found[1]?.confirm?.confirm?.text).toBe("Roll back");
    expect(m.text).toBe("Rollout #218 of payments-api: staging failed");
  });

  describe("health gates", () => {
    const check = (
      outcome: "pass" | "fail" | "inconclusive",
      reason: string,
      value: number | null,
      requests: number,
    ) => ({
      name: "error-rate",
      query: 'sum(rate(http_requests_total{app="payments-api",code=~"5.."}[5m]))',
      value,
      requests,
      outcome,
      reason,
    });
    const health = (
      status: "baking" | "pass" | "fail" | "inconclusive",
      checks: ReturnType<typeof check>[] = [],
    ) => ({
      status,
      check: "error-rate",
      bakeUntil: "2026-11-24T10:10:00Z",
      checkedAt: status === "baking" ? null : "2026-11-24T10:10:05Z",
      checks,
      autoRollback: false,
    });
    const staging = (over: Partial<RolloutCardStage>) =>
      stage("staging", { run: run("12958840"), dispatchedAt: at("2026-11-24T08:50:00Z"), ...over });

    it("says a deployed stage bakes until when, and which health check decides", () => {
      const m = renderRolloutCard(
        view({
          stages: [
            rebuildDone,
            staging({ state: "verifying", health: health("baking") }),
            stage("canary"),
            productionPending,
          ],
        }),
      );
      const text = messageText(m.blocks);
      expect(text).toContain(`staging 🔬 baking until ${token("2026-11-24T10:10:00Z")}`);
      expect(text).toContain(
        `🔬 Staging is deployed and bakes until ${token("2026-11-24T10:10:00Z")}; then its health check *error-rate* decides whether it goes on.`,
      );
      expect(m.text).toBe("Rollout #218 of payments-api: staging deployed, baking until 10:10 UTC");
      expect(buttons(m.blocks).map((b) => b.action_id)).not.toContain(ROLLOUT_ACTIONS.promote);
    });

    it("shows a passed gate as healthy with the numbers seen", () => {
      const m = renderRolloutCard(
        view({
          stages: [
            rebuildDone,
            staging({
              state: "done",
              health: health("pass", [check("pass", "0.0021 ≤ 0.01 (max)", 0.0021, 1840)]),
            }),
            canaryAwaiting,
            productionPending,
          ],
        }),
      );
      expect(messageText(m.blocks)).toContain(
        "staging ✅ healthy (error-rate: 0.0021 ≤ 0.01 (max), 1840 requests)",
      );
    });

    it("asks a person to promote or roll back when the gate cannot judge, with Promote behind a confirmation", () => {
      const m = renderRolloutCard(
        view({
          stages: [
            rebuildDone,
            staging({
              state: "verifying",
              health: health("inconclusive", [
                check(
                  "inconclusive",
                  "12 requests in the window, fewer than the 200 needed to judge",
                  null,
                  12,
                ),
              ]),
            }),
            stage("canary"),
            productionPending,
          ],
        }),
      );
      const text = messageText(m.blocks);
      expect(text).toContain("staging ⚠️ health inconclusive");
      expect(text).toContain(
        "⚠️ Staging is deployed but its health check could not judge it: error-rate: 12 requests in the window, fewer than the 200 needed to judge. Promote it if it looks right to you, or roll back.",
      );
      const found = buttons(m.blocks).map(summary);
      expect(found[0]).toEqual(["Promote staging", ROLLOUT_ACTIONS.promote, "primary", "confirm"]);
      expect(found.map((b) => b[1])).toContain(ROLLOUT_ACTIONS.rollback);
      expect(m.text).toBe("Rollout #218 of payments-api: staging health inconclusive, promote or roll back");
    });

    it("says a stage failed its health check with the numbers, and offers Retry and Roll back", () => {
      const m = renderRolloutCard(
        view({
          state: "halted",
          stages: [
            rebuildDone,
            staging({
              state: "failed",
              health: health("fail", [check("fail", "0.042 > 0.01 (max)", 0.042, 900)]),
            }),
            stage("canary"),
            productionPending,
          ],
        }),
      );
      const text = messageText(m.blocks);
      expect(text).toContain("staging ❌ unhealthy");
      expect(text).toContain(
        "❌ Staging failed its health check: error-rate: 0.042 &gt; 0.01 (max), 900 requests. Retry or roll back.",
      );
      expect(
        buttons(m.blocks)
          .map((b) => b.action_id)
          .slice(0, 2),
      ).toEqual([ROLLOUT_ACTIONS.retry, ROLLOUT_ACTIONS.rollback]);
    });
  });

  it("offers Cancel instead of Roll back when a failure left nothing deployed", () => {
    const rebuild = stage("rebuild", {
      state: "failed",
      run: run("1"),
      dispatchedAt: at("2026-11-24T08:30:00Z"),
    });
    const m = renderRolloutCard(
      view({
        state: "halted",
        candidateDigest: null,
        candidateScanned: false,
        delta: null,
        stages: [rebuild, stage("staging"), stage("canary"), productionPending],
      }),
    );
    expect(messageText(m.blocks)).toContain("Retry or cancel.");
    expect(buttons(m.blocks).map(summary)).toEqual([
      ["Retry rebuild", ROLLOUT_ACTIONS.retry, "primary", null],
      ["Cancel rollout", ROLLOUT_ACTIONS.cancel, "danger", "confirm"],
    ]);
    expect(JSON.parse(buttons(m.blocks)[0]?.value ?? "null")).toEqual({
      rollout: 218,
      stage: "rebuild",
      digest: null,
    });
  });

  it("says who rejected a stage and why, and offers Ask again", () => {
    const canary = {
      ...canaryAwaiting,
      state: "rejected" as const,
      missing: [],
      decidedBy: "U0SAM",
      decisionReason: "error budget spent <b>this week</b>",
    };
    const m = renderRolloutCard(
      view({ state: "halted", stages: [rebuildDone, stagingDone, canary, productionPending] }),
    );
    expect(messageText(m.blocks)).toContain(
      "⛔ Canary rejected by <@U0SAM> · error budget spent &lt;b&gt;this week&lt;/b&gt;. Ask again or cancel the rollout.",
    );
    expect(buttons(m.blocks).map(summary)).toEqual([
      ["Ask again", ROLLOUT_ACTIONS.requestAgain, "primary", null],
      ["Cancel rollout", ROLLOUT_ACTIONS.cancel, "danger", "confirm"],
      ["Roll back", ROLLOUT_ACTIONS.rollback, "danger", "confirm"],
    ]);
  });

  it("says when an approval request expired, and offers Ask again", () => {
    const canary = { ...canaryAwaiting, state: "expired" as const, missing: [] };
    const m = renderRolloutCard(
      view({ state: "halted", stages: [rebuildDone, stagingDone, canary, productionPending] }),
    );
    expect(messageText(m.blocks)).toContain(
      `⌛ The approval request for canary expired ${token("2026-11-27T08:12:00Z")}; ask again.`,
    );
    expect(buttons(m.blocks)[0]?.action_id).toBe(ROLLOUT_ACTIONS.requestAgain);
    expect(m.text).toBe("Rollout #218 of payments-api: canary expired");
  });

  it("marks a finished rollout ✅ done, with who approved what, and no buttons", () => {
    const done = (s: RolloutCardStage, iso: string): RolloutCardStage => ({
      ...s,
      state: "done",
      missing: [],
      run: run("1300"),
      dispatchedAt: at(iso),
      completedAt: at(iso),
    });
    const canary = {
      ...done(canaryAwaiting, "2026-11-24T10:00:00Z"),
      approvals: [{ userId: "U0MARIA", userName: "maria", at: at("2026-11-24T09:40:00Z"), override: true }],
    };
    const m = renderRolloutCard(
      view({
        state: "done",
        stages: [rebuildDone, stagingDone, canary, done(productionPending, "2026-12-01T09:05:00Z")],
      }),
    );
    expect(blockLines(m.blocks)[0]).toContain("base image bump (node:22.10 → 22.11)* · ✅ done");
    expect(messageText(m.blocks)).toContain(
      `✅ canary: approved by <@U0MARIA> · ${token("2026-11-24T09:40:00Z")} (override)`,
    );
    expect(m.blocks.some((b) => b.type === "actions")).toBe(false);
    expect(m.text).toBe("Rollout #218 of payments-api: done, production deployed");
  });

  it("shows a rollback in progress, then rolled back without buttons", () => {
    const canary = {
      ...canaryAwaiting,
      state: "done" as const,
      missing: [],
      dispatchedAt: at("2026-11-24T10:00:00Z"),
    };
    const production = { ...productionPending, state: "cancelled" as const };
    const rollback = stage("rollback-canary", {
      kind: "rollback",
      state: "awaiting_approval",
      approvalsRequired: 1,
      missing: ["1 more approval"],
      approvals: [{ userId: "U0SAM", userName: "sam", at: at("2026-11-24T11:00:00Z"), override: false }],
      requestedAt: at("2026-11-24T11:00:00Z"),
      decisionReason: "p99 latency doubled",
    });
    const rolling = renderRolloutCard(
      view({ state: "rolling_back", stages: [rebuildDone, stagingDone, canary, production, rollback] }),
    );
    const text = messageText(rolling.blocks);
    expect(blockLines(rolling.blocks)[0]).toContain("· ↩️ rolling back");
    expect(text).toContain("Requested by <@U0SAM>");
    expect(text).toContain("· p99 latency doubled.");
    expect(buttons(rolling.blocks).map(summary)).toEqual([
      ["Approve rollback-canary", ROLLOUT_ACTIONS.approve, "primary", null],
      ["Reject", ROLLOUT_ACTIONS.reject, "danger", null],
    ]);
    // The rollback restores the running digest: that is what its buttons are bound to.
    expect(JSON.parse(buttons(rolling.blocks)[0]?.value ?? "null")).toEqual({
      rollout: 218,
      stage: "rollback-canary",
      digest: RUNNING,
    });

    const finished = { ...rollback, state: "done" as const, missing: [], run: run("1400") };
    const back = renderRolloutCard(
      view({ state: "rolled_back", stages: [rebuildDone, stagingDone, canary, production, finished] }),
    );
    expect(blockLines(back.blocks)[0]).toContain("· ↩️ rolled back");
    expect(messageText(back.blocks)).toContain(
      "↩️ Rolled back to `sha256:4f1caaaaaaaa…` (<https://github.com/acme/payments-api/actions/runs/1400|run 1400>) · p99 latency doubled.",
    );
    expect(back.blocks.some((b) => b.type === "actions")).toBe(false);
    expect(back.text).toBe("Rollout #218 of payments-api: rolled back");
  });

  it("marks a cancelled rollout 🛑 and offers nothing", () => {
    const m = renderRolloutCard(
      view({
        state: "cancelled",
        stages: [
          rebuildDone,
          stagingDone,
          { ...canaryAwaiting, state: "cancelled", missing: [] },
          productionPending,
        ],
      }),
    );
    expect(blockLines(m.blocks)[0]).toContain("· 🛑 cancelled");
    expect(messageText(m.blocks)).toContain("canary 🛑 cancelled");
    expect(m.blocks.some((b) => b.type === "actions")).toBe(false);
    expect(m.text).toBe("Rollout #218 of payments-api: cancelled");
  });

  it("marks an emergency-lane deployment 🚨", () => {
    const production = {
      ...productionPending,
      state: "deploying" as const,
      emergency: true,
      run: { ...run("1500"), status: "in_progress", conclusion: null },
      dispatchedAt: at("2026-11-24T16:00:00Z"),
    };
    const text = messageText(
      renderRolloutCard(view({ stages: [rebuildDone, stagingDone, production] })).blocks,
    );
    expect(text).toContain("production 🚨 🔄 deploying");
    expect(text).toContain("through the emergency lane 🚨");
  });

  it("names the trigger: automatic critical, a typed reason, or plain patch", () => {
    const first = (v: RolloutCardView) => blockLines(renderRolloutCard(v).blocks)[0]?.split("\n")[0];
    expect(first(view({ trigger: "auto-critical", reason: null }))).toContain(
      "· automatic: new fixable critical*",
    );
    expect(first(view({ trigger: "manual", reason: "fix <!channel> openssl" }))).toContain(
      "· fix &lt;!channel&gt; openssl*",
    );
    expect(first(view({ trigger: "patch-now", reason: null }))).toContain("· patch*");
  });

  it("escapes user text in the one-line fallback too", () => {
    const m = renderRolloutCard(view({ image: { id: "pay<@U1>", repository: "ghcr.io/acme/pay" } }));
    expect(m.text).toBe("Rollout #218 of pay&lt;@U1&gt;: canary awaiting 1 approval");
    expect(m.text).not.toContain("\n");
  });

  it("keeps a huge rollout within Slack's limits, with one primary button at most", () => {
    const long = (i: number) => `stage-${i}-${"&<>".repeat(40)}`;
    const approvals = Array.from({ length: 30 }, (_, j) => ({
      userId: `U0${j}APPROVER`,
      userName: null,
      at: at("2026-11-24T09:00:00Z"),
      override: j % 2 === 0,
    }));
    const stages = Array.from({ length: 12 }, (_, i) =>
      stage(long(i), {
        state: i < 10 ? "done" : i === 10 ? "awaiting_approval" : "pending",
        approvals,
        approverGroups: Array.from({ length: 20 }, (_, g) => `S0G${g}`),
        approverUsers: Array.from({ length: 20 }, (_, u) => `U0U${u}`),
        missing: i === 10 ? ["3 more approvals", "1 from <!subteam^S0G1>", "1 from <!subteam^S0G2>"] : [],
        run: {
          id: "9".repeat(30),
          url: `https://github.com/acme/x/actions/runs/${"9".repeat(30)}`,
          status: null,
          conclusion: null,
        },
        dispatchedAt: i < 10 ? at("2026-11-24T09:00:00Z") : null,
        decisionReason: "&".repeat(2000),
        window: { ...window, name: "w&".repeat(200), timezone: "Z<".repeat(100) },
      }),
    );
    const v = view({
      reason: "<&>".repeat(1000),
      requestedBy: { id: "someone", name: "&".repeat(500) },
      image: { id: "&".repeat(300), repository: "ghcr.io/acme/payments-api" },
      delta: {
        fixed: severityCounts({ critical: 999 }),
        introduced: severityCounts({ critical: 999 }),
        unchanged: 1,
        blocking: Array.from({ length: 200 }, (_, i) => `CVE-2026-${1000 + i} (${"<&>".repeat(50)})`),
        fixedUrgent: [],
      },
      stages,
    });
    const m = renderRolloutCard(v);
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    assertWithinBlockKitLimits(m, "message");
    expect(buttons(m.blocks).filter((b) => b.style === "primary")).toHaveLength(1);
    expect(m.text).not.toContain("\n");
    // Every stage is still listed.
    expect(messageText(m.blocks).match(/stage-\d+-/g)?.length).toBeGreaterThanOrEqual(12);
  });

  it("has at most one primary button in every state", () => {
    const states: RolloutCardStage["state"][] = [
      "pending",
      "awaiting_approval",
      "approved",
      "dispatched",
      "deploying",
      "done",
      "failed",
      "rejected",
      "expired",
      "cancelled",
    ];
    for (const state of states) {
      const m = renderRolloutCard(view({ stages: [rebuildDone, stagingDone, { ...canaryAwaiting, state }] }));
      expect(buttons(m.blocks).filter((b) => b.style === "primary").length).toBeLessThanOrEqual(1);
      expect(checkBlockKitLimits(m, "message")).toEqual([]);
    }
  });
});
