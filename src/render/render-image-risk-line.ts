import type { ImageRiskRow } from "../core/digest/image-risk-row.js";
import type { ImageRiskSummary } from "../core/risk/image-risk-summary.js";
import { clipLine } from "./render-clip.js";
import { renderImageLink } from "./render-links.js";
import { SEVERITY_MARK } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

/** Whether an image belongs in a "top risk" list at all. */
export function hasRisk(s: ImageRiskSummary): boolean {
  return s.knownExploited + s.critical + s.high + s.breachedCritical + s.breachedHigh > 0;
}

function counts(s: ImageRiskSummary): string {
  const parts: string[] = [];
  if (s.critical > 0) parts.push(`${SEVERITY_MARK.critical} ${s.critical}`);
  if (s.high > 0) parts.push(`${SEVERITY_MARK.high} ${s.high}`);
  if (s.medium > 0) parts.push(`${SEVERITY_MARK.medium} ${s.medium}`);
  return parts.length > 0 ? parts.join(" ") : "no critical, high or medium";
}

/** "1. ledger-worker — 🔴 2 🟠 5 · 1 known exploited · 2 past SLA · base image 41 days behind". */
export function renderImageRiskLine(row: ImageRiskRow, rank: number): string {
  const parts = [counts(row)];
  if (row.knownExploited > 0) parts.push(`*${row.knownExploited} known exploited*`);
  const breached = row.breachedCritical + row.breachedHigh;
  if (breached > 0) parts.push(`${breached} past SLA`);
  if (row.fixable > 0) parts.push(`${row.fixable} fixable`);
  if (row.baseImageBehindDays !== null && row.baseImageBehindDays > 0)
    parts.push(`base image ${row.baseImageBehindDays} days behind`);
  if (row.rollout !== null) {
    const stage = escapeMrkdwn(clipLine(row.rollout.stage, 40));
    parts.push(
      row.rollout.awaitingApproval
        ? `rollout #${row.rollout.rolloutId} waiting for ${stage} approval`
        : `rollout #${row.rollout.rolloutId} at ${stage}`,
    );
  }
  return `${rank}. ${renderImageLink(row)} — ${parts.join(" · ")}`;
}
