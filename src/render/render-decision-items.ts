import type { Button, SectionBlock } from "@slack/types";
import type { AwaitingRollout } from "../core/digest/awaiting-rollout.js";
import type { SlaBreach } from "../core/digest/sla-breach.js";
import { clipLine } from "./render-clip.js";
import { renderDateTime } from "./render-date-time.js";
import { renderImageLink, renderVulnerabilityLink } from "./render-links.js";
import { renderUserGroup } from "./render-mentions.js";
import { renderSeverityCounts } from "./render-severity-counts.js";
import { SEVERITY_MARK, slackDate } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

export type DecisionOptions = {
  actionId: string;
  /** The one primary button of the message. */
  primary: boolean;
  /** Name the approver group, as a mention that notifies them; off for repeats in a thread. */
  mentionGroup?: boolean;
};

function button(text: string, actionId: string, value: string, primary: boolean): Button {
  return {
    type: "button",
    text: { type: "plain_text", text },
    action_id: actionId,
    value,
    ...(primary ? { style: "primary" as const } : {}),
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One rollout stopped at an approval, with a button that opens its card. */
export function renderRolloutDecision(r: AwaitingRollout, o: DecisionOptions): SectionBlock {
  const group =
    r.approverGroupId === null || o.mentionGroup === false
      ? ""
      : ` from ${renderUserGroup(r.approverGroupId)}`;
  const parts = [
    `• ${renderImageLink(r.image)} · rollout #${r.rolloutId}`,
    `*${escapeMrkdwn(clipLine(r.stage, 40))}* awaiting ${plural(r.approvalsMissing, "approval")}${group}`,
    `fixes ${renderSeverityCounts(r.fixes)}`,
  ];
  if (r.expiresAt !== null) parts.push(`expires ${renderDateTime(r.expiresAt)}`);
  const reason = r.reason === null ? "" : `\n_${escapeMrkdwn(clipLine(r.reason, 80))}_`;
  return {
    type: "section",
    text: { type: "mrkdwn", text: `${parts.join(" · ")}${reason}` },
    accessory: button(
      "Review rollout",
      o.actionId,
      JSON.stringify({ rolloutId: r.rolloutId, stage: clipLine(r.stage, 40) }),
      o.primary,
    ),
  };
}

function overdue(b: SlaBreach): string {
  const by = b.daysPastDue <= 0 ? "fell due today" : `past SLA by ${plural(b.daysPastDue, "day")}`;
  return `${by} (due ${slackDate(b.dueAt)})`;
}

/** "• 🔴 CVE-2026-1234 in ledger-worker · openssl · known exploited · past SLA by 2 days (due Nov 22)". */
export function renderBreachLine(b: SlaBreach): string {
  const kev = b.knownExploited ? " · *known exploited*" : "";
  const fix = b.fixable ? "" : " · no fix yet";
  return `• ${SEVERITY_MARK[b.severity]} ${renderVulnerabilityLink(b.vulnerabilityId)} in ${renderImageLink(b.image)} · ${escapeMrkdwn(clipLine(b.packageName, 60))}${kev} · ${overdue(b)}${fix}`;
}

/**
 * One finding past its SLA, with its title. A fixable one gets "Patch now"; one with no fix cannot
 * be patched, so it says how to accept it instead of offering a button that would rebuild for nothing.
 */
export function renderBreachDecision(b: SlaBreach, o: DecisionOptions): SectionBlock {
  const head = renderBreachLine(b);
  const title = b.title === null ? "" : `\n_${escapeMrkdwn(clipLine(b.title, 80))}_`;
  if (!b.fixable) {
    const accept = `/patch accept ${clipLine(b.vulnerabilityId, 60)} ${clipLine(b.image.name, 60)} --until YYYY-MM-DD --reason "…"`;
    return {
      type: "section",
      text: { type: "mrkdwn", text: `${head}${title}\nMitigate it, or \`${escapeMrkdwn(accept)}\`` },
    };
  }
  const value = JSON.stringify({
    imageId: b.image.imageId,
    vulnerabilityId: clipLine(b.vulnerabilityId, 200),
  });
  return {
    type: "section",
    text: { type: "mrkdwn", text: `${head}${title}` },
    accessory: button("Patch now", o.actionId, value, o.primary),
  };
}
