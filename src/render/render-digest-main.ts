import type { KnownBlock } from "@slack/types";
import { ACCEPTANCE_EXPIRY_HORIZON_DAYS } from "../core/digest/expiring-acceptances.js";
import { totalOf } from "../core/digest/severity-counts.js";
import { severityDelta } from "../core/digest/severity-delta.js";
import type { TeamDigest } from "../core/digest/team-digest.js";
import { renderAcceptedRiskLine } from "./render-accepted-risk-line.js";
import { clipLine } from "./render-clip.js";
import { renderBreachDecision, renderRolloutDecision } from "./render-decision-items.js";
import { renderDigestFooter } from "./render-digest-footer.js";
import { renderBaseImageMoveLine, renderShipped, renderUnownedImageLine } from "./render-digest-lines.js";
import type { DigestLists } from "./render-digest-lists.js";
import { renderFallback } from "./render-fallback.js";
import { renderImageRiskLine } from "./render-image-risk-line.js";
import { renderPostureHeadline, renderPostureWords } from "./render-posture-headline.js";
import { renderSeverityCounts } from "./render-severity-counts.js";
import { linesToSections } from "./render-thread-messages.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

const section = (text: string): KnownBlock => ({ type: "section", text: { type: "mrkdwn", text } });

function more(total: number, shown: number, what: string): string[] {
  return total > shown ? [`…and ${total - shown} more ${what} in the thread`] : [];
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function headline(d: TeamDigest): string {
  const first = renderPostureHeadline(d, severityDelta(d.open, d.previousOpen));
  const second: string[] = [];
  if (totalOf(d.newSinceLast) > 0)
    second.push(`new since last digest ${renderSeverityCounts(d.newSinceLast)}`);
  second.push(`${d.fixable} fixable`);
  if (d.acceptedCount > 0) second.push(`${d.acceptedCount} accepted`);
  return `${first}\n${second.join(" · ")}`;
}

function decisions(l: DigestLists, shown: number): KnownBlock[] {
  if (l.rollouts.length === 0 && l.breaches.length === 0) return [section("*Nothing needs a decision.*")];
  const blocks: KnownBlock[] = [section("*Needs a decision*")];
  l.rollouts.slice(0, shown).forEach((r, i) => {
    blocks.push(renderRolloutDecision(r, { actionId: "digest_review_rollout", primary: i === 0 }));
  });
  blocks.push(...more(l.rollouts.length, shown, "rollouts awaiting approval").map(section));
  const primaryTaken = l.rollouts.length > 0 && shown > 0;
  l.breaches.slice(0, shown).forEach((b, i) => {
    blocks.push(renderBreachDecision(b, { actionId: "digest_patch_now", primary: !primaryTaken && i === 0 }));
  });
  blocks.push(...more(l.breaches.length, shown, "SLA breaches").map(section));
  return blocks;
}

function topRisk(l: DigestLists, shown: number): KnownBlock[] {
  if (l.risky.length === 0) return [section("*Top risk*\nNo image has critical or high findings.")];
  const lines = l.risky.slice(0, shown).map((row, i) => renderImageRiskLine(row, i + 1));
  return linesToSections(["*Top risk*", ...lines, ...more(l.risky.length, shown, "images")]);
}

function listSection(
  title: string,
  lines: string[],
  total: number,
  shown: number,
  what: string,
): KnownBlock[] {
  if (total === 0) return [];
  return linesToSections([title, ...lines.slice(0, shown), ...more(total, shown, what)]);
}

function fallback(d: TeamDigest, l: DigestLists): string {
  const posture = renderPostureWords(d, severityDelta(d.open, d.previousOpen));
  const asks: string[] = [];
  if (l.rollouts.length > 0) asks.push(`${plural(l.rollouts.length, "rollout")} awaiting approval`);
  if (l.breaches.length > 0) asks.push(`${plural(l.breaches.length, "SLA breach", "SLA breaches")}`);
  const decide = asks.length > 0 ? `Needs a decision: ${asks.join(", ")}.` : "Nothing needs a decision.";
  return `${l.title}: ${posture}. ${decide}`;
}

/** The digest's channel message with at most `shown` items per list; the rest go to the thread. */
export function renderDigestMain(d: TeamDigest, l: DigestLists, shown: number): SlackMessage {
  const now = d.generatedAt;
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: l.title } },
    section(headline(d)),
    { type: "divider" },
    ...decisions(l, shown),
    ...topRisk(l, shown),
    ...listSection(
      "*Base images that moved*",
      d.baseImagesMoved.slice(0, shown).map(renderBaseImageMoveLine),
      d.baseImagesMoved.length,
      shown,
      "base images",
    ),
    section(`*Shipped in ${escapeMrkdwn(clipLine(d.periodLabel, 40))}:* ${renderShipped(d.shipped)}`),
    ...listSection(
      `*Accepted risks expiring within ${ACCEPTANCE_EXPIRY_HORIZON_DAYS} days*`,
      d.expiringAcceptances.slice(0, shown).map((a) => `• ${renderAcceptedRiskLine(a, now)}`),
      d.expiringAcceptances.length,
      shown,
      "acceptances",
    ),
    ...listSection(
      "*Images nobody owns* — add them to a team in the config so their alerts reach someone",
      d.unownedImages.slice(0, shown).map(renderUnownedImageLine),
      d.unownedImages.length,
      shown,
      "images",
    ),
    ...(d.chartAttached ? [section("📈 Trend chart in the thread")] : []),
    renderDigestFooter(d),
  ];
  return { text: renderFallback(fallback(d, l)), blocks };
}
