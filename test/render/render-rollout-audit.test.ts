import { describe, expect, it } from "vitest";
import type { RolloutAuditEntry, RolloutAuditView } from "../../src/core/rollout/rollout-audit-view.js";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderCommandOutcome } from "../../src/render/render-command-outcome.js";
import { describeAuditEntry, renderRolloutAudit } from "../../src/render/render-rollout-audit.js";
import type { SlackMessage } from "../../src/render/slack-message.js";

const t0 = new Date("2026-11-24T09:00:00Z");
let seq = 40;
const entry = (action: string, over: Partial<RolloutAuditEntry> = {}): RolloutAuditEntry => ({
  seq: ++seq,
  at: new Date(t0.getTime() + seq * 60_000),
  actor: { id: "system", name: "patchpilot" },
  action,
  outcome: "ok",
  stage: null,
  digest: null,
  payload: {},
  ...over,
});
const view = (head: RolloutAuditEntry[], tail: RolloutAuditEntry[] = [], skipped = 0): RolloutAuditView => ({
  rolloutId: 218,
  image: { id: "payments-api", repository: "ghcr.io/acme/payments-api" },
  team: { id: "payments", name: "Payments", channel: "C0PAY" },
  state: "rolled_back",
  trigger: "manual",
  reason: "CVE-2026-1234",
  requestedBy: { id: "U0MARIA", name: "maria" },
  createdAt: t0,
  head,
  tail,
  skipped,
  chainHeadSeq: 9000,
});
const textOf = (m: SlackMessage) => JSON.stringify(m.blocks);
const sha = (c: string) => `sha256:${c.repeat(64)}`;

describe("describeAuditEntry", () => {
  it.each<[string, RolloutAuditEntry, string]>([
    [
      "a request",
      entry("rollout.requested", {
        actor: { id: "U0MARIA", name: "m" },
        payload: { trigger: "patch-now", reason: "KEV" },
      }),
      "requested the rollout (patch-now): “KEV”",
    ],
    [
      "a deployed stage starting to bake",
      entry("stage.verifying", {
        stage: "staging",
        payload: { bakeUntil: "2026-11-24T10:10:00Z", healthCheck: "error-rate" },
      }),
      "deployed *staging*, bakes until <!date^1795515000^{date_short_pretty} {time}|2026-11-24 10:10 UTC>; then health check *error-rate*",
    ],
    [
      "a passed health check, with the numbers",
      entry("health.pass", {
        actor: { id: "system", name: "health gate" },
        stage: "staging",
        payload: { checks: [{ name: "error-rate", reason: "0.0021 ≤ 0.01 (max)", requests: 1840 }] },
      }),
      "health check passed on *staging*: error-rate 0.0021 ≤ 0.01 (max), 1840 requests",
    ],
    [
      "an inconclusive health check",
      entry("health.inconclusive", {
        stage: "canary",
        payload: { checks: [{ name: "error-rate", reason: "the query returned no data", requests: null }] },
      }),
      "health check could not judge on *canary*: error-rate the query returned no data",
    ],
    [
      "a promotion by hand",
      entry("stage.promoted", { stage: "canary" }),
      "promoted *canary* by hand after an inconclusive health check",
    ],
    ["an approval", entry("stage.approved", { stage: "canary" }), "approved *canary*"],
    [
      "a denied approval, with its message",
      entry("stage.approve", {
        outcome: "denied",
        stage: "canary",
        payload: { message: "four-eyes: you asked for it" },
      }),
      "denied: four-eyes: you asked for it _(tried to approve *canary*)_",
    ],
    [
      "a denied approval naming the approvers as the clicker was told, and nothing else as markup",
      entry("stage.approve", {
        outcome: "denied",
        stage: "staging",
        payload: {
          message:
            "You are not an approver. Approvers: <!subteam^S0PAYAPPR>, <@U0LEE>. <!channel> <https://x|y>",
        },
      }),
      "denied: You are not an approver. Approvers: <!subteam^S0PAYAPPR>, <@U0LEE>. &lt;!channel&gt; &lt;https://x|y&gt; _(tried to approve *staging*)_",
    ],
    [
      "a dispatch, linked to its run",
      entry("stage.dispatched", { stage: "production", payload: { repo: "acme/payments-api", run: 123 } }),
      "dispatched *production* (run <https://github.com/acme/payments-api/actions/runs/123|123>)",
    ],
    [
      "a finished run",
      entry("run.completed", {
        stage: "staging",
        payload: { run: "77", conclusion: "success", url: "https://github.com/acme/p/actions/runs/77" },
      }),
      "run completed: success (*staging*, run <https://github.com/acme/p/actions/runs/77|77>)",
    ],
    [
      "a run address that could inject markup is not linked",
      entry("run.completed", { payload: { run: "77", conclusion: "failure", url: "https://x|<!channel>" } }),
      "run completed: failure (run 77)",
    ],
    [
      "a wait for a window",
      entry("stage.waiting_for_window", {
        stage: "production",
        payload: { window: "nightly", opensAt: "2026-11-24T22:00:00.000Z" },
      }),
      "*production* waits for window *nightly*, opening <!date^1795557600^{date_short_pretty} {time}|2026-11-24 22:00 UTC>",
    ],
    ["an expiry", entry("stage.expired", { stage: "canary" }), "the approval request for *canary* expired"],
    [
      "a rejection with a reason that tries to mention everyone",
      entry("stage.rejected", { stage: "canary", payload: { reason: "broken <!channel>" } }),
      "rejected *canary*: “broken &lt;!channel&gt;”",
    ],
    [
      "a scan of the build",
      entry("scan.ingested", { digest: sha("a"), payload: { new: 1, fixed: 3, scanner: "trivy 0.58" } }),
      "scanned `sha256:aaaaaaaaaaaa…`: 1 new, 3 fixed (trivy 0.58)",
    ],
    [
      "a rollback request",
      entry("rollout.rollback_requested", { payload: { undoes: "canary", to: sha("b") } }),
      "asked to roll back *canary* to `sha256:bbbbbbbbbbbb…`",
    ],
    [
      "something new",
      entry("stage.teleported", { stage: "canary", outcome: "failed" }),
      "stage.teleported *canary* (failed)",
    ],
  ])("%s", (_, e, expected) => {
    expect(describeAuditEntry(e)).toBe(expected);
  });

  it("names a refusal's user group by its id in a history shared in the channel, so nobody is notified", () => {
    const denied = entry("stage.approve", {
      outcome: "denied",
      stage: "staging",
      payload: { message: "You are not an approver. Approvers: <!subteam^S0PAYAPPR>." },
    });
    expect(describeAuditEntry(denied, { share: true })).toBe(
      "denied: You are not an approver. Approvers: user group S0PAYAPPR. _(tried to approve *staging*)_",
    );
    const shared = JSON.stringify(renderRolloutAudit(view([denied]), { share: true }).blocks);
    expect(shared).not.toContain("<!subteam^");
    expect(JSON.stringify(renderRolloutAudit(view([denied])).blocks)).toContain("<!subteam^S0PAYAPPR>");
  });
});

describe("renderRolloutAudit", () => {
  it("leads with the rollout and lists every event in order with who did it", () => {
    const events = [
      entry("rollout.requested", { actor: { id: "U0MARIA", name: "maria" }, payload: { trigger: "manual" } }),
      entry("stage.approved", { actor: { id: "U0LEAD", name: "lead" }, stage: "canary" }),
      entry("run.completed", { stage: "canary", payload: { conclusion: "success" } }),
    ];
    const m = renderRolloutAudit(view(events));
    expect(m.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "Rollout #218 · payments-api · rolled back" },
    });
    const text = textOf(m);
    const order = [
      "<@U0MARIA> · requested the rollout",
      "<@U0LEAD> · approved *canary*",
      "patchpilot · run completed: success",
    ];
    const at = order.map((s) => text.indexOf(s));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain(
      `audit seq ${events[0]?.seq}–${events[2]?.seq} (chain head 9000) · verify with \`patchpilot audit verify\``,
    );
    expect(text).not.toContain("more;");
    expect(m.response_type).toBe("ephemeral");
    expect(m.text).toBe("Rollout #218 · payments-api · rolled back: 3 audit events");
    expect(renderRolloutAudit(view([]), { share: true }).response_type).toBe("in_channel");
  });

  it("fits a long history in one message, keeping its start and its latest events", () => {
    const head = Array.from({ length: 20 }, (_, i) =>
      entry(i === 0 ? "rollout.requested" : "stage.approve", {
        outcome: i === 0 ? "ok" : "denied",
        actor: { id: "U0LEAD", name: null },
        stage: "canary",
        payload: { message: `four-eyes & more ${"<".repeat(150)}` },
      }),
    );
    const tail = Array.from({ length: 180 }, (_, i) =>
      entry(i === 179 ? "rollout.cancelled" : "run.in_progress", {
        stage: "production",
        payload: { run: String(i) },
      }),
    );
    const m = renderRolloutAudit(view(head, tail, 100));
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    const text = textOf(m);
    expect(text).toContain("requested the rollout");
    expect(text).toContain("cancelled the rollout");
    const hidden = Number(/… (\d+) more; `patchpilot audit export` has all/.exec(text)?.[1]);
    const shown = (text.match(/• /g) ?? []).length;
    expect(shown + hidden).toBe(300);
    expect(text).toContain(`audit seq ${head[0]?.seq}–${tail.at(-1)?.seq}`);
  });
});

describe("renderCommandOutcome", () => {
  it("shows a success as it is and marks a refusal, ephemeral unless asked", () => {
    const ok = renderCommandOutcome({
      ok: true,
      message: ":rocket: Rollout #3 started. Follow it in <#C0PAY>.",
    });
    expect(ok.blocks).toEqual([
      {
        type: "section",
        text: { type: "mrkdwn", text: ":rocket: Rollout #3 started. Follow it in <#C0PAY>." },
      },
    ]);
    expect(ok.text).toBe("Rollout #3 started. Follow it in #C0PAY.");
    expect(ok.response_type).toBe("ephemeral");

    const no = renderCommandOutcome(
      { ok: false, message: "Only approvers of *canary* can roll it back." },
      { inChannel: true },
    );
    expect(textOf(no)).toContain(":no_entry_sign: Only approvers of *canary*");
    expect(no.text).toBe("Only approvers of canary can roll it back.");
    expect(no.response_type).toBe("in_channel");

    const led = renderCommandOutcome({ ok: false, message: ":ice_cube: already frozen" });
    expect(textOf(led)).not.toContain("no_entry_sign");
  });

  it("stays within Block Kit limits for a very long message", () => {
    const m = renderCommandOutcome({ ok: false, message: "x".repeat(10_000) });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
  });
});
