import type { KnownBlock } from "@slack/types";
import type { RolloutAuditEntry, RolloutAuditView } from "../core/rollout/rollout-audit-view.js";
import { BLOCK_KIT_LIMITS } from "./block-kit-limits.js";
import { clipLine } from "./render-clip.js";
import { renderDateTime } from "./render-date-time.js";
import { renderFallback } from "./render-fallback.js";
import { renderFitted } from "./render-fitted.js";
import { renderImageLink } from "./render-links.js";
import { renderPerson, renderUserGroup } from "./render-mentions.js";
import { linesToSections } from "./render-thread-messages.js";
import { shortDigest } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

/** Events always shown from the start of the history when it is too long for one message. */
const FIRST_SHOWN = 3;
const MAX_REASON = 200;
const MAX_MESSAGE = 300;
const MAX_URL = 300;
// More lines than this never fit the house limit on a message's blocks (13k characters of JSON).
const MAX_LINES = 120;

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const words = (text: string, max = MAX_REASON) => escapeMrkdwn(clipLine(text, max));
/**
 * A refusal's message names the approvers as the clicker was told, with Slack's user and user
 * group mentions (`<@U…>`, `<!subteam^S…>`); escaped, those would show as markup. Exactly those
 * two forms are shown as the rest of the history shows people and groups, except that a history
 * shared in the channel names a group by its id: a group mention there would notify all its members.
 */
const withMentions = (escaped: string, share: boolean) =>
  escaped.replace(
    /&lt;(?:@([UW][A-Z0-9]+)|!subteam\^([A-Z0-9]+))&gt;/g,
    (_, user?: string, group?: string) =>
      user ? renderPerson(user) : share ? `user group ${group}` : renderUserGroup(group ?? ""),
  );
const code = (text: string) => `\`${escapeMrkdwn(clipLine(text, 80)).replaceAll("`", "'")}\``;
const digest = (d: string) => code(shortDigest(d));
const reasonOf = (p: Record<string, unknown>) => {
  const r = str(p.reason);
  return r === null ? "" : `: “${words(r)}”`;
};

/** A GitHub Actions run as a link when its address is safe to put in mrkdwn, else its id. */
function runLink(p: Record<string, unknown>): string | null {
  const id = str(p.run) ?? (num(p.run) === null ? null : String(p.run));
  const url = str(p.url);
  const repo = str(p.repo);
  const safeUrl =
    url !== null && /^https:\/\/[^\s<>|]+$/.test(url) && url.length <= MAX_URL
      ? url
      : repo !== null && id !== null && /^[\w.-]+\/[\w.-]+$/.test(repo) && /^\d+$/.test(id)
        ? `https://github.com/${repo}/actions/runs/${id}`
        : null;
  if (id === null) return safeUrl === null ? null : `<${safeUrl}|run>`;
  const label = escapeMrkdwn(clipLine(id, 40));
  return safeUrl === null ? `run ${label}` : `run <${safeUrl}|${label}>`;
}

function who(e: RolloutAuditEntry): string {
  // patchpilot itself, naming the part that acted when it says (the health gate, freshness).
  if (e.actor.id === "system")
    return e.actor.name && e.actor.name !== "patchpilot"
      ? `patchpilot (${words(e.actor.name, 30)})`
      : "patchpilot";
  return renderPerson(e.actor.id, e.actor.name);
}

const VERBS: Record<string, string> = {
  "stage.approve": "approve",
  "stage.reject": "reject",
  "stage.retry": "retry",
  "stage.request_again": "ask again for",
  "rollout.cancel": "cancel the rollout",
  "rollout.rollback": "roll back",
};

/** What happened, in words: "approved canary", "dispatched production (run 123)", "denied: …". */
export function describeAuditEntry(e: RolloutAuditEntry, opts: { share?: boolean } = {}): string {
  const p = e.payload;
  const stage = e.stage === null ? "" : `*${escapeMrkdwn(clipLine(e.stage, 60))}*`;
  const on = stage === "" ? "" : ` ${stage}`;
  if (e.outcome === "denied") {
    const message = str(p.message);
    const tried = VERBS[e.action] ?? e.action;
    const attempt = `_(tried to ${escapeMrkdwn(tried)}${on})_`;
    return `denied: ${message === null ? "not allowed" : withMentions(words(message, MAX_MESSAGE), opts.share === true)} ${attempt}`;
  }
  const run = runLink(p);
  switch (e.action) {
    case "rollout.requested": {
      const trigger = str(p.trigger);
      const from = str(p.from);
      return `requested the rollout${trigger ? ` (${words(trigger, 30)})` : ""}${from ? ` from ${digest(from)}` : ""}${reasonOf(p)}`;
    }
    case "rollout.candidate": {
      const to = str(p.to) ?? str(p.digest);
      if (e.outcome === "refused") {
        const why = str(p.why);
        return `ignored a build${to ? ` ${digest(to)}` : ""}${why ? `: ${words(why)}` : ""}`;
      }
      return `build ready: candidate ${to ? digest(to) : "recorded"}`;
    }
    case "rollout.candidate_changed": {
      const from = str(p.from);
      const to = str(p.to);
      return `candidate changed${from ? ` from ${digest(from)}` : ""}${to ? ` to ${digest(to)}` : ""}`;
    }
    case "scan.ingested": {
      const news = num(p.new);
      const fixed = num(p.fixed);
      const scanner = str(p.scanner);
      const counts = news === null && fixed === null ? "" : `: ${news ?? 0} new, ${fixed ?? 0} fixed`;
      return `scanned${e.digest ? ` ${digest(e.digest)}` : ""}${counts}${scanner ? ` (${words(scanner, 40)})` : ""}`;
    }
    case "stage.approval_requested": {
      const n = num(p.approvals);
      return `asked for approval of${on}${n !== null ? ` (${n} needed)` : ""}`;
    }
    case "stage.auto_approved":
      return `${stage} needs no approval: approved automatically`;
    case "stage.approved":
      return `approved${on}${p.override === true ? ` as an override${reasonOf(p)}` : ""}`;
    case "stage.rejected":
      return `rejected${on}${reasonOf(p)}`;
    case "stage.retried":
      return `retried${on}`;
    case "stage.expired":
      return `the approval request for${on} expired`;
    case "stage.waiting_for_window": {
      const window = str(p.window);
      const opens = str(p.opensAt);
      const at =
        opens === null || Number.isNaN(Date.parse(opens)) ? "" : `, opens ${renderDateTime(new Date(opens))}`;
      return `${stage} waits for window${window ? ` *${words(window, 60)}*` : ""}${at.replace(", opens", ", opening")}`;
    }
    case "stage.frozen":
      return `${stage} held by a freeze${reasonOf(p)}`;
    case "stage.emergency_bypass":
      return `${stage} skipped its window${reasonOf(p)}`;
    case "stage.dispatched":
      return `dispatched${on}${run ? ` (${run})` : ""}`;
    case "stage.dispatch_failed": {
      const message = str(p.message);
      return `could not dispatch${on}${message ? `: ${words(message, MAX_MESSAGE)}` : ""}`;
    }
    case "stage.verifying": {
      const until = str(p.bakeUntil);
      const check = str(p.healthCheck);
      const bake =
        until === null || Number.isNaN(Date.parse(until))
          ? ""
          : `, bakes until ${renderDateTime(new Date(until))}`;
      return `deployed${on}${bake}; then ${check ? `health check *${words(check, 40)}*` : "it is done"}`;
    }
    case "health.pass":
    case "health.fail":
    case "health.inconclusive": {
      const verdict = {
        "health.pass": "passed",
        "health.fail": "failed",
        "health.inconclusive": "could not judge",
      }[e.action];
      return `health check ${verdict} on${on}${healthNumbers(p)}`;
    }
    case "stage.promoted":
      return `promoted${on} by hand after an inconclusive health check`;
    case "rollout.cancelled":
      return `cancelled the rollout${reasonOf(p)}`;
    case "rollout.done": {
      const to = str(p.to);
      return `rollout done: ${to ? `${digest(to)} ` : "the candidate "}runs in production`;
    }
    case "rollout.rollback_requested": {
      const undoes = str(p.undoes);
      const to = str(p.to);
      return `asked to roll back${undoes ? ` *${words(undoes, 60)}*` : on}${to ? ` to ${digest(to)}` : ""}${reasonOf(p)}`;
    }
  }
  if (e.action.startsWith("run.")) {
    const status = words(e.action.slice(4).replaceAll("_", " "), 30);
    const conclusion = str(p.conclusion);
    const where = [stage, run].filter((x) => x !== null && x !== "").join(", ");
    const detail = where === "" ? "" : ` (${where})`;
    if (e.outcome === "ignored") return `run ${status} ignored${detail}`;
    return `run ${status}${conclusion ? `: ${words(conclusion, 30)}` : ""}${detail}`;
  }
  return `${words(e.action, 60)}${on}${e.outcome === "ok" ? "" : ` (${words(e.outcome, 30)})`}`;
}

// ": error-rate 0.0021 ≤ 0.01 (max), 1840 requests": the first check's reason and the traffic seen.
function healthNumbers(p: Record<string, unknown>): string {
  const first = Array.isArray(p.checks) ? (p.checks[0] as Record<string, unknown> | undefined) : undefined;
  if (!first) return "";
  const name = str(first.name);
  const reason = str(first.reason);
  const requests = num(first.requests);
  const traffic =
    requests === null || reason?.includes("requests") ? "" : `, ${Math.floor(requests)} requests`;
  return `: ${name ? `${words(name, 40)} ` : ""}${reason ? words(reason, MAX_MESSAGE) : ""}${traffic}`;
}

const line = (e: RolloutAuditEntry, share: boolean) =>
  `• ${renderDateTime(e.at)} · ${who(e)} · ${describeAuditEntry(e, { share })}`;

const more = (n: number) => `… ${n} more; \`patchpilot audit export\` has all`;

/** The first events and the latest ones, `shown` in all, with a marker for what lies between. */
function selectLines(v: RolloutAuditView, shown: number, share: boolean): string[] {
  const all = [...v.head, ...v.tail];
  const lines = (entries: RolloutAuditEntry[]) => entries.map((e) => line(e, share));
  if (shown >= all.length && v.skipped === 0) return lines(all);
  const first = Math.min(FIRST_SHOWN, shown, v.head.length);
  const last = Math.max(0, Math.min(shown - first, all.length - first));
  const hidden = all.length - first - last + v.skipped;
  return [
    ...lines(all.slice(0, first)),
    ...(hidden > 0 ? [more(hidden)] : []),
    ...lines(all.slice(all.length - last)),
  ];
}

function title(v: RolloutAuditView): string {
  return clipLine(
    `Rollout #${v.rolloutId} · ${v.image.id} · ${v.state.replaceAll("_", " ")}`,
    BLOCK_KIT_LIMITS.header_text_length,
  );
}

function build(v: RolloutAuditView, shown: number, share: boolean): SlackMessage {
  const all = [...v.head, ...v.tail];
  const team = v.team ? ` · team *${escapeMrkdwn(clipLine(v.team.name, 60))}*` : "";
  const started = `${renderImageLink({ name: v.image.id, repository: v.image.repository })}${team} · started ${renderDateTime(v.createdAt)} by ${v.requestedBy.id === "system" ? "patchpilot" : renderPerson(v.requestedBy.id, v.requestedBy.name)} (${words(v.trigger, 30)})${v.reason ? `: “${words(v.reason)}”` : ""}`;
  const first = all[0];
  const lastEntry = all.at(-1);
  const seqs =
    first && lastEntry
      ? `audit seq ${first.seq}–${lastEntry.seq} (chain head ${v.chainHeadSeq}) · verify with \`patchpilot audit verify\``
      : "No audit events recorded for this rollout yet.";
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: title(v) } },
    { type: "section", text: { type: "mrkdwn", text: started } },
    ...linesToSections(all.length > 0 ? selectLines(v, shown, share) : []),
    { type: "context", elements: [{ type: "mrkdwn", text: seqs }] },
  ];
  const count = all.length + v.skipped;
  return {
    text: renderFallback(`${title(v)}: ${count} audit event${count === 1 ? "" : "s"}`),
    blocks,
    response_type: share ? "in_channel" : "ephemeral",
  };
}

/**
 * `/patch audit <rollout>`: one patch's history from its request to production, one line per audit
 * event in order. A history too long for one message keeps its first events and the latest ones
 * and says how many lie between; the export has them all.
 */
export function renderRolloutAudit(v: RolloutAuditView, opts: { share?: boolean } = {}): SlackMessage {
  const total = Math.min(v.head.length + v.tail.length, MAX_LINES);
  return renderFitted((shown) => build(v, shown, opts.share === true), "message", total).rendered;
}
