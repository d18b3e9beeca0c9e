import type { KnownBlock } from "@slack/types";
import { acceptanceState } from "../core/digest/acceptance-state.js";
import type { FinishedRollout, ImageHistory, ScanHistoryEntry } from "../core/digest/image-history.js";
import { totalOf } from "../core/digest/severity-counts.js";
import { renderAcceptedRiskLine } from "./render-accepted-risk-line.js";
import { clipLine } from "./render-clip.js";
import { renderDateTime } from "./render-date-time.js";
import { renderFallback } from "./render-fallback.js";
import { renderFitted } from "./render-fitted.js";
import { renderImageLink } from "./render-links.js";
import { renderSeverityCounts } from "./render-severity-counts.js";
import type { StatusOptions } from "./render-status.js";
import { linesToSections } from "./render-thread-messages.js";
import { shortDigest } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

/** Rows per list; older ones are counted, not shown. */
export const HISTORY_SHOWN = 15;

const when = renderDateTime;
const digest = (d: string) => `\`${escapeMrkdwn(clipLine(shortDigest(d), 80))}\``;
const newestFirst = <T>(rows: readonly T[], at: (r: T) => Date): T[] =>
  [...rows].sort((a, b) => at(b).getTime() - at(a).getTime());

function scanLine(s: ScanHistoryEntry): string {
  const changes: string[] = [];
  if (totalOf(s.newFindings) > 0) changes.push(`new ${renderSeverityCounts(s.newFindings)}`);
  if (totalOf(s.fixedFindings) > 0) changes.push(`fixed ${renderSeverityCounts(s.fixedFindings)}`);
  const scanner = escapeMrkdwn(clipLine(s.scanner, 60));
  return `• ${when(s.at)} · ${digest(s.digest)} · ${scanner} · ${changes.length > 0 ? changes.join(" · ") : "no change"}`;
}

function rolloutLine(r: FinishedRollout): string {
  const from = r.fromDigest === null ? "" : `${digest(r.fromDigest)} → `;
  const outcome = r.outcome === "shipped" ? "shipped ✅" : "rolled back ↩️";
  const fixed = totalOf(r.fixed) > 0 ? ` · fixed ${renderSeverityCounts(r.fixed)}` : "";
  return `• ${when(r.finishedAt)} · rollout #${r.rolloutId} ${from}${digest(r.toDigest)}${fixed} · ${outcome}`;
}

function list(title: string, lines: string[], shown: number, what: string, empty: string): string[] {
  if (lines.length === 0) return [`*${title}*`, empty];
  const older = lines.length - shown;
  return [`*${title}*`, ...lines.slice(0, shown), ...(older > 0 ? [`…and ${older} older ${what}`] : [])];
}

function fallback(h: ImageHistory): string {
  const shipped = h.rollouts.filter((r) => r.outcome === "shipped").length;
  const active = h.acceptances.filter((a) => acceptanceState(a, h.generatedAt) === "active").length;
  const s = (n: number) => (n === 1 ? "" : "s");
  return `History of ${h.image.name}: ${h.scans.length} scan${s(h.scans.length)}, ${shipped} patch${shipped === 1 ? "" : "es"} shipped, ${h.acceptances.length} accepted risk${s(h.acceptances.length)} (${active} active)`;
}

function build(h: ImageHistory, shown: number, o: StatusOptions): SlackMessage {
  const scans = newestFirst(h.scans, (s) => s.at).map(scanLine);
  const rollouts = newestFirst(h.rollouts, (r) => r.finishedAt).map(rolloutLine);
  const accepted = newestFirst(h.acceptances, (a) => a.acceptedAt).map(
    (a) => `• ${renderAcceptedRiskLine(a, h.generatedAt, false)}`,
  );
  const command = escapeMrkdwn(`/patch status ${clipLine(h.image.name, 60)}`);
  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*History of ${renderImageLink(h.image)}*` } },
    ...linesToSections(list("Scans", scans, shown, "scans", "No scans yet.")),
    ...linesToSections(list("Patches shipped", rollouts, shown, "rollouts", "No rollouts finished yet.")),
    ...linesToSections(list("Accepted risks", accepted, shown, "acceptances", "None.")),
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: `Newest first · \`${command}\` for where it stands now` }],
    },
  ];
  return { text: renderFallback(fallback(h)), blocks, response_type: o.share ? "in_channel" : "ephemeral" };
}

/** The answer to `/patch history <image>`: recent scans, finished rollouts and acceptances, newest first. */
export function renderHistory(h: ImageHistory, o: StatusOptions = { share: false }): SlackMessage {
  return renderFitted((shown) => build(h, shown, o), "message", HISTORY_SHOWN).rendered;
}
