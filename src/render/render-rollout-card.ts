import type { ActionsBlock, Button, ConfirmationDialog, KnownBlock, SectionBlock } from "@slack/types";
import {
  ROLLOUT_ACTIONS,
  type RolloutButtonValue,
  type RolloutCardStage,
  type RolloutCardView,
} from "../core/rollout/rollout-card-view.js";
import {
  cancelRefusal,
  currentStage,
  type RolloutState,
  rollbackTarget,
  type StageSummary,
} from "../core/rollout/rollout-state.js";
import { healthSummary } from "../core/rollout/stage-health.js";
import { BLOCK_KIT_LIMITS } from "./block-kit-limits.js";
import { clipLine } from "./render-clip.js";
import { renderDateTime } from "./render-date-time.js";
import { renderFallback } from "./render-fallback.js";
import { renderFitted } from "./render-fitted.js";
import { renderImageLink, renderVulnerabilityLink } from "./render-links.js";
import { renderPerson, renderUserGroup } from "./render-mentions.js";
import { renderSeverityCounts } from "./render-severity-counts.js";
import { shortDigest } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

// How many items per list (blocking findings, approvals per stage, approvers) the card shows at most;
// renderFitted shows fewer when escaping makes the card outgrow Slack's limits.
const MAX_SHOWN = 5;
const MAX_STAGE_NAME = 30;
const MAX_REASON = 200;
const MAX_RUN_URL = 500;
const SECTION_BUDGET = BLOCK_KIT_LIMITS.section_text_length - 100;

type Stage = RolloutCardStage & StageSummary;

const section = (text: string): SectionBlock => ({ type: "section", text: { type: "mrkdwn", text } });
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const stageName = (s: { name: string }) => escapeMrkdwn(clipLine(s.name, MAX_STAGE_NAME));
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const userText = (text: string, max = MAX_REASON) => escapeMrkdwn(clipLine(text, max));

const STATE_MARK: Partial<Record<RolloutState, string>> = {
  done: "✅ done",
  halted: "⛔ halted",
  rolling_back: "↩️ rolling back",
  rolled_back: "↩️ rolled back",
  cancelled: "🛑 cancelled",
};

function why(v: RolloutCardView): string {
  const detail = v.reason === null || v.reason.trim() === "" ? null : v.reason;
  const withDetail = (what: string) => (detail === null ? what : `${what} (${userText(detail, 120)})`);
  if (v.trigger === "base-image") return withDetail("base image bump");
  if (v.trigger === "auto-critical") return withDetail("automatic: new fixable critical");
  return detail === null ? "patch" : userText(detail, 120);
}

function header(v: RolloutCardView): string {
  const image = renderImageLink({ name: v.image.id, repository: v.image.repository });
  const mark = STATE_MARK[v.state];
  // When it finished, for the done card: the last forward stage's completion.
  const finishedAt =
    v.state === "done" ? [...v.stages].reverse().find((s) => s.kind !== "rollback")?.completedAt : null;
  const state = mark && finishedAt ? `${mark} ${renderDateTime(finishedAt)}` : mark;
  return `*Rollout #${v.rolloutId} · ${image} · ${why(v)}*${state ? ` · ${state}` : ""}`;
}

function digestLine(v: RolloutCardView): string {
  const running =
    v.runningDigest === null ? "running digest unknown" : `\`${escapeMrkdwn(shortDigest(v.runningDigest))}\``;
  if (v.candidateDigest === null) return `${running} → candidate: waiting for the rebuild's scan`;
  const candidate = `\`${escapeMrkdwn(shortDigest(v.candidateDigest))}\``;
  if (v.delta === null) return `${running} → ${candidate}   candidate: waiting for its scan`;
  const d = v.delta;
  return `${running} → ${candidate}   Fixes ${renderSeverityCounts(d.fixed)} · introduces ${renderSeverityCounts(d.introduced)} · ${d.unchanged} unchanged`;
}

// "CVE-2026-1 (openssl, known exploited)": the id linked to its advisory, the rest as text.
function blockingFinding(text: string): string {
  const m = /^(\S+) \((.*)\)$/.exec(text);
  if (!m?.[1]) return userText(text, 100);
  return `${renderVulnerabilityLink(m[1])} (${userText(m[2] ?? "", 80)})`;
}

function blockingLine(v: RolloutCardView, current: Stage | null, shown: number): string | null {
  const blocking = v.delta?.blocking ?? [];
  if (blocking.length === 0) return null;
  const listed = blocking.slice(0, Math.max(1, shown)).map(blockingFinding).join(", ");
  const more =
    blocking.length > Math.max(1, shown) ? ` and ${blocking.length - Math.max(1, shown)} more` : "";
  // quorum() names the override group in the current stage's missing list; it is ours, not user text.
  const override = current?.missing.find((m) => m.startsWith("an override from "));
  const needs = override ? ` — needs ${override}` : " — approving it needs an override";
  return `⚠️ *Introduces ${blocking.length} critical / known-exploited:* ${listed}${more}${needs}`;
}

function runLink(s: Stage): string | null {
  const run = s.run;
  if (run === null) return null;
  // The whole id: it is what the Actions URL and `gh run view` use.
  const label = run.id === null ? "run" : `run ${escapeMrkdwn(clipLine(run.id, 40))}`;
  const url = run.url;
  const safe = url !== null && url.length <= MAX_RUN_URL && /^https:\/\/[^\s<>|]+$/.test(url);
  return safe ? `<${url}|${label}>` : label;
}

const isFrozen = (s: Stage) => s.blockedReason?.startsWith("Frozen") === true;

function approvalsShort(s: Stage): number {
  return Math.max(0, s.approvalsRequired - s.approvals.length);
}

// "error-rate: 0.004 ≤ 0.01": the check that decided, its numbers, clipped (reasons carry user config).
function healthWords(s: Stage): string {
  return s.health === null ? "" : userText(healthSummary(s.health), 160);
}

function stageStatus(s: Stage, now: Date): string {
  const run = runLink(s);
  const withRun = (text: string) => (run === null ? text : `${text} ${run}`);
  switch (s.state) {
    case "done":
      if (s.health?.status === "pass") return withRun(`✅ healthy (${healthWords(s)})`);
      if (s.health?.status === "inconclusive") return withRun("✅ promoted by hand");
      return withRun("✅");
    case "verifying": {
      if (s.health?.status === "inconclusive") return withRun("⚠️ health inconclusive");
      const until = s.health ? new Date(s.health.bakeUntil) : null;
      return until !== null && until.getTime() > now.getTime()
        ? withRun(`🔬 baking until ${renderDateTime(until)}`)
        : withRun("🔬 health check running");
    }
    case "awaiting_approval": {
      const short = approvalsShort(s);
      return `⏳ awaiting ${short > 0 ? plural(short, "approval") : "approval"}`;
    }
    case "approved":
      if (isFrozen(s)) return "🧊 frozen";
      if (s.scheduledFor !== null) return `⏸ waits for its window, opening ${renderDateTime(s.scheduledFor)}`;
      return "🔄 dispatching";
    case "dispatched":
    case "deploying":
      return withRun(s.kind === "build" ? "🔄 building" : "🔄 deploying");
    case "failed":
      return withRun(s.health?.status === "fail" ? "❌ unhealthy" : "❌ failed");
    case "rejected":
      return "⛔ rejected";
    case "expired":
      return "⌛ expired";
    case "cancelled":
      return "🛑 cancelled";
    case "pending":
      return s.window?.opensAt ? `⏸ (window opens ${renderDateTime(s.window.opensAt)})` : "⏸";
  }
}

function stagePart(s: Stage, now: Date): string {
  const lane = s.emergency ? "🚨 " : "";
  return `${stageName(s)} ${lane}${stageStatus(s, now)}`;
}

// Parts joined by " · ", packed into as few sections as Slack's section limit allows.
function packed(parts: readonly string[]): SectionBlock[] {
  const sections: SectionBlock[] = [];
  let current = "";
  for (const part of parts) {
    if (current !== "" && current.length + 3 + part.length > SECTION_BUDGET) {
      sections.push(section(current));
      current = "";
    }
    current = current === "" ? part : `${current} · ${part}`;
  }
  if (current !== "") sections.push(section(current));
  return sections;
}

function approvers(s: Stage, shown: number): string {
  const who = [...s.approverGroups.map(renderUserGroup), ...s.approverUsers.map((u) => renderPerson(u))];
  const n = Math.max(1, shown);
  return who.length > n ? `${who.slice(0, n).join(" or ")} or ${who.length - n} more` : who.join(" or ");
}

function awaitingLine(v: RolloutCardView, s: Stage, shown: number): string {
  const name = capitalized(stageName(s));
  const who = approvers(s, shown);
  // quorum() words these ("1 more approval", "1 from <!subteam^S0SEC>"); before any vote, "more" misleads.
  const missing = s.missing.map((m) =>
    s.approvals.length === 0 ? m.replace(/^(\d+) more approval/, "$1 approval") : m,
  );
  let needs: string;
  if (missing.length === 0) needs = `${name} awaits approval${who ? ` from ${who}` : ""}.`;
  else if (missing.length === 1 && /^\d+ (more )?approvals?$/.test(missing[0] ?? ""))
    needs = `${name} needs ${missing[0]}${who ? ` from ${who}` : ""}.`;
  else needs = `${name} needs ${missing.join(" and ")}${who ? ` (approvers: ${who})` : ""}.`;
  // A rollback is requested by whoever clicked Roll back, whose click is its first vote.
  const first = s.kind === "rollback" ? s.approvals[0] : undefined;
  const by = first
    ? renderPerson(first.userId, first.userName)
    : renderPerson(v.requestedBy.id, v.requestedBy.name);
  const requested = `Requested by ${by} ${renderDateTime(s.requestedAt ?? v.createdAt)}`;
  const why = s.kind === "rollback" ? reasonSuffix(s) : "";
  const expires = s.expiresAt === null ? "" : ` · expires ${renderDateTime(s.expiresAt)}`;
  const unscanned =
    s.kind === "deploy" && !v.candidateScanned
      ? "\nIt can be approved once the candidate has been scanned."
      : "";
  return `${needs} ${requested}${expires}${why}.${unscanned}`;
}

function decider(s: Stage): string {
  return s.decidedBy === null ? "" : ` by ${renderPerson(s.decidedBy)}`;
}

function reasonSuffix(s: Stage): string {
  return s.decisionReason === null || s.decisionReason.trim() === ""
    ? ""
    : ` · ${userText(s.decisionReason)}`;
}

function windowLine(s: Stage, opensAt: Date): string {
  const w = s.window;
  const named = w === null ? "its window" : `window ${userText(w.name, 40)}`;
  const zone = w === null ? "" : ` (${userText(w.timezone, 40)})`;
  return `${named} opens ${renderDateTime(opensAt)}${zone}`;
}

function decisionLine(v: RolloutCardView, s: Stage, deployed: boolean, shown: number): string | null {
  const name = stageName(s);
  switch (s.state) {
    case "awaiting_approval":
      return awaitingLine(v, s, shown);
    case "approved":
      if (isFrozen(s))
        return `🧊 ${capitalized(name)} is approved but frozen: ${userText((s.blockedReason ?? "").replace(/^Frozen:\s*/, ""))}.`;
      if (s.scheduledFor !== null)
        return `⏸ ${capitalized(name)} is approved and waits: ${windowLine(s, s.scheduledFor)}.`;
      return null;
    case "dispatched":
    case "deploying": {
      const run = runLink(s);
      const lane = s.emergency ? " through the emergency lane 🚨" : "";
      const doing = s.kind === "build" ? "is building the candidate" : "is deploying";
      return `🔄 ${capitalized(name)} ${doing}${lane}${run === null ? "" : ` (${run})`}.`;
    }
    case "verifying": {
      const check = s.health?.check ? ` *${userText(s.health.check, 40)}*` : "";
      if (s.health?.status === "inconclusive")
        return `⚠️ ${capitalized(name)} is deployed but its health check could not judge it: ${healthWords(s)}. Promote it if it looks right to you, or roll back.`;
      const until = s.health ? new Date(s.health.bakeUntil) : null;
      const bake =
        until !== null && until.getTime() > v.now.getTime()
          ? `bakes until ${renderDateTime(until)}`
          : "has baked";
      return `🔬 ${capitalized(name)} is deployed and ${bake}; then its health check${check} decides whether it goes on.`;
    }
    case "failed": {
      const run = runLink(s);
      const next =
        s.kind === "rollback" ? "Retry the rollback." : deployed ? "Retry or roll back." : "Retry or cancel.";
      if (s.health?.status === "fail")
        return `❌ ${capitalized(name)} failed its health check: ${healthWords(s)}. ${next}`;
      return `❌ ${name} failed${run === null ? "" : ` (${run})`}${reasonSuffix(s)}. ${next}`;
    }
    case "rejected":
      return `⛔ ${capitalized(name)} rejected${decider(s)}${reasonSuffix(s)}. Ask again or cancel the rollout.`;
    case "expired": {
      const when = s.expiresAt === null ? "" : ` ${renderDateTime(s.expiresAt)}`;
      return `⌛ The approval request for ${name} expired${when}; ask again.`;
    }
    case "cancelled":
      return `🛑 Cancelled${decider(s)}${reasonSuffix(s)}.`;
    default:
      return null;
  }
}

// The next stage that needs people or a window: what its approvers should expect. Groups are not
// mentioned here (MESSAGES.md: only the approval request itself mentions them).
function upcomingLine(stages: readonly Stage[], current: Stage | null): string | null {
  if (current === null) return null;
  const next = stages.find(
    (s) =>
      s.position > current.position &&
      s.kind !== "rollback" &&
      s.state === "pending" &&
      (s.window !== null || s.approvalsRequired > 0),
  );
  if (!next) return null;
  const parts: string[] = [];
  if (next.window !== null) {
    parts.push(
      next.window.opensAt === null
        ? `window ${userText(next.window.name, 40)} (${userText(next.window.timezone, 40)}) is open`
        : windowLine(next, next.window.opensAt),
    );
  }
  if (next.approvalsRequired > 0) {
    const groups = next.requiredGroups.length;
    const incl =
      groups === 0
        ? ""
        : groups === 1
          ? " incl. 1 from a required group"
          : ` incl. 1 from each of ${groups} required groups`;
    parts.push(`needs ${plural(next.approvalsRequired, "approval")}${incl}`);
  }
  if (parts.length === 0) return null;
  return `${capitalized(stageName(next))}: ${parts.join(" · ")}`;
}

function rolledBackLine(v: RolloutCardView, rb: Stage): string {
  const to =
    v.runningDigest === null ? "the previous digest" : `\`${escapeMrkdwn(shortDigest(v.runningDigest))}\``;
  const run = runLink(rb);
  return `↩️ Rolled back to ${to}${run === null ? "" : ` (${run})`}${reasonSuffix(rb)}.`;
}

function approvalLines(stages: readonly Stage[], shown: number): string[] {
  const n = Math.max(1, shown);
  return stages
    .filter((s) => s.approvals.length > 0)
    .map((s) => {
      const listed = s.approvals
        .slice(0, n)
        .map(
          (a) =>
            `${renderPerson(a.userId, a.userName)} · ${renderDateTime(a.at)}${a.override ? " (override)" : ""}`,
        );
      const more = s.approvals.length > n ? `, and ${s.approvals.length - n} more` : "";
      return `✅ ${stageName(s)}: approved by ${listed.join(", ")}${more}`;
    });
}

function slaLine(v: RolloutCardView): string | null {
  const sla = v.slaDeadline;
  if (sla === null) return null;
  const id = renderVulnerabilityLink(sla.vulnerabilityId);
  if (sla.dueAt.getTime() < v.now.getTime())
    return `⏱ Fixes ${id}, past its SLA since ${renderDateTime(sla.dueAt)}`;
  return `⏱ Meets the SLA of ${id} due ${renderDateTime(sla.dueAt)}`;
}

function latestRollback(stages: readonly Stage[]): Stage | undefined {
  return [...stages].reverse().find((s) => s.kind === "rollback");
}

function digestOf(v: RolloutCardView, s: Stage): string | null {
  if (s.kind === "deploy") return v.candidateDigest;
  if (s.kind === "rollback") return v.runningDigest;
  return null;
}

function button(
  v: RolloutCardView,
  s: Stage,
  text: string,
  actionId: string,
  style: "primary" | "danger",
  confirm?: ConfirmationDialog,
): Button {
  const value: RolloutButtonValue = { rollout: v.rolloutId, stage: s.name, digest: digestOf(v, s) };
  return {
    type: "button",
    text: { type: "plain_text", text: clipLine(text, BLOCK_KIT_LIMITS.button_text_length) },
    action_id: actionId,
    style,
    value: JSON.stringify(value),
    ...(confirm ? { confirm } : {}),
  };
}

function dialog(title: string, text: string, confirm: string): ConfirmationDialog {
  return {
    title: { type: "plain_text", text: clipLine(title, BLOCK_KIT_LIMITS.confirm_title_length) },
    text: { type: "plain_text", text: clipLine(text, BLOCK_KIT_LIMITS.confirm_text_length) },
    confirm: { type: "plain_text", text: confirm },
    deny: { type: "plain_text", text: "Keep going" },
    style: "danger",
  };
}

function buttons(v: RolloutCardView, stages: readonly Stage[], current: Stage | null): Button[] {
  if (v.state === "done" || v.state === "cancelled" || v.state === "rolled_back") return [];
  const image = clipLine(v.image.id, 40);
  const rollbackDialog = dialog(
    `Roll back rollout #${v.rolloutId}?`,
    `This dispatches ${image}'s rollback workflow to restore ${v.runningDigest === null ? "the digest that ran before" : shortDigest(v.runningDigest)} everywhere this rollout deployed.`,
    "Roll back",
  );
  const cancelDialog = dialog(
    `Cancel rollout #${v.rolloutId}?`,
    `The stages of ${image} not deployed yet will not run. Nothing deployed so far is undone.`,
    "Cancel rollout",
  );
  const out: Button[] = [];
  const rb = latestRollback(stages);
  const active = rb && rb.state !== "done" && rb.state !== "cancelled" ? rb : undefined;
  const target = rollbackTarget(stages);
  const offerRollback = target !== null && v.state !== "rolling_back" && rb === undefined;
  const offerCancel = (v.state === "active" || v.state === "halted") && cancelRefusal(stages) === null;
  let cancelShown = false;
  const now = active ?? current;
  if (now !== null) {
    const name = clipLine(now.name, 40);
    switch (now.state) {
      case "awaiting_approval":
        if (!(now.kind === "deploy" && !v.candidateScanned))
          out.push(
            button(v, now, `Approve ${name}${now.confirm ? "…" : ""}`, ROLLOUT_ACTIONS.approve, "primary"),
          );
        out.push(button(v, now, "Reject", ROLLOUT_ACTIONS.reject, "danger"));
        break;
      case "failed":
        out.push(button(v, now, `Retry ${name}`, ROLLOUT_ACTIONS.retry, "primary"));
        break;
      case "verifying":
        if (now.health?.status === "inconclusive")
          out.push(
            button(
              v,
              now,
              `Promote ${name}`,
              ROLLOUT_ACTIONS.promote,
              "primary",
              dialog(
                `Promote ${name}?`,
                `Its health check could not judge ${name}. Promoting marks it healthy on your word and opens the next stage; it is recorded in the audit trail.`,
                "Promote",
              ),
            ),
          );
        break;
      case "expired":
      case "rejected":
        out.push(button(v, now, "Ask again", ROLLOUT_ACTIONS.requestAgain, "primary"));
        if (offerCancel) {
          out.push(button(v, now, "Cancel rollout", ROLLOUT_ACTIONS.cancel, "danger", cancelDialog));
          cancelShown = true;
        }
        break;
      default:
        break;
    }
  }
  if (offerRollback)
    out.push(button(v, target, "Roll back", ROLLOUT_ACTIONS.rollback, "danger", rollbackDialog));
  if (offerCancel && !cancelShown && current !== null)
    out.push(button(v, current, "Cancel rollout", ROLLOUT_ACTIONS.cancel, "danger", cancelDialog));
  return out;
}

// The one-line status a notification shows: "canary awaiting 1 approval".
function statusWords(v: RolloutCardView, stages: readonly Stage[], current: Stage | null): string {
  const rb = latestRollback(stages);
  if (v.state === "rolled_back") return "rolled back";
  if (v.state === "rolling_back" && rb?.state !== "awaiting_approval") return "rolling back";
  if (v.state === "cancelled") return "cancelled";
  if (v.state === "done") {
    const last = [...stages].reverse().find((s) => s.kind !== "rollback");
    return last ? `done, ${clipLine(last.name, MAX_STAGE_NAME)} deployed` : "done";
  }
  const s = rb && rb.state !== "done" ? rb : current;
  if (s === null) return v.state;
  const name = clipLine(s.name, MAX_STAGE_NAME);
  switch (s.state) {
    case "awaiting_approval": {
      const short = approvalsShort(s);
      return `${name} awaiting ${short > 0 ? plural(short, "approval") : "approval"}`;
    }
    case "approved":
      if (isFrozen(s)) return `${name} approved, held by a freeze`;
      if (s.scheduledFor !== null)
        return `${name} approved, waiting for its window (${s.scheduledFor.toISOString().slice(0, 16).replace("T", " ")} UTC)`;
      return `${name} dispatching`;
    case "dispatched":
    case "deploying":
      return `${name} ${s.kind === "build" ? "building" : "deploying"}`;
    case "verifying": {
      if (s.health?.status === "inconclusive") return `${name} health inconclusive, promote or roll back`;
      const until = s.health ? new Date(s.health.bakeUntil) : null;
      return until !== null && until.getTime() > v.now.getTime()
        ? `${name} deployed, baking until ${until.toISOString().slice(11, 16)} UTC`
        : `${name} health check running`;
    }
    case "pending":
      return v.candidateDigest === null ? "waiting for the rebuild" : `${name} pending`;
    default:
      return `${name} ${s.state}`;
  }
}

function footer(v: RolloutCardView): string {
  const requested = `requested by ${renderPerson(v.requestedBy.id, v.requestedBy.name)} ${renderDateTime(v.createdAt)}`;
  const team = v.team === null ? "" : ` · team ${userText(v.team.name, 60)}`;
  const candidate =
    v.candidateDigest === null ? "" : ` · candidate \`${escapeMrkdwn(shortDigest(v.candidateDigest))}\``;
  return `\`/patch audit ${v.rolloutId}\` · ${requested}${team}${candidate} · rollout ${v.rolloutId}`;
}

function build(v: RolloutCardView, shown: number): SlackMessage {
  const stages: Stage[] = v.stages.map((s, position) => ({ ...s, position }));
  const current = currentStage(stages);
  const deployed = rollbackTarget(stages) !== null;
  const rb = latestRollback(stages);
  // A rollback, once asked for, is what needs attention; after it is done, nothing does.
  const focus = rb ? (rb.state === "done" ? null : rb) : current;

  const lead = [header(v), digestLine(v), blockingLine(v, current, shown)].filter((l) => l !== null);
  const decision = [
    rb?.state === "done" ? rolledBackLine(v, rb) : null,
    focus === null ? null : decisionLine(v, focus, deployed, shown),
    v.state === "active" || v.state === "halted" ? upcomingLine(stages, current) : null,
  ].filter((l) => l !== null);
  const approvals = approvalLines(stages, shown);
  const sla = slaLine(v);
  const actions = buttons(v, stages, current);

  const blocks: KnownBlock[] = [
    section(lead.join("\n")),
    ...packed(stages.map((s) => stagePart(s, v.now))),
    ...(decision.length > 0 ? [section(decision.join("\n"))] : []),
  ];
  // Who approved what, and the deadline the rollout meets: one small element, a line each.
  const record = [...approvals, ...(sla === null ? [] : [sla])];
  if (record.length > 0)
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: record.join("\n") }] });
  if (actions.length > 0) blocks.push({ type: "actions", elements: actions } satisfies ActionsBlock);
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: footer(v) }] });

  const text = renderFallback(`Rollout #${v.rolloutId} of ${v.image.id}: ${statusWords(v, stages, current)}`);
  return { text, blocks };
}

/** The rollout card: one message per rollout, updated in place at every transition (MESSAGES.md). */
export function renderRolloutCard(view: RolloutCardView): SlackMessage {
  return renderFitted((shown) => build(view, shown), "message", MAX_SHOWN).rendered;
}
