import type { ActionsBlock, KnownBlock } from "@slack/types";
import type { ImageStatus } from "../core/digest/image-status.js";
import { totalOf } from "../core/digest/severity-counts.js";
import { renderAcceptedRiskLine } from "./render-accepted-risk-line.js";
import { clipLine } from "./render-clip.js";
import { renderFallback } from "./render-fallback.js";
import { renderFitted } from "./render-fitted.js";
import { renderImageLink, renderVulnerabilityLink } from "./render-links.js";
import { renderRolloutProgress } from "./render-rollout-progress.js";
import { renderSeverityCounts, renderSeverityWords } from "./render-severity-counts.js";
import { linesToSections } from "./render-thread-messages.js";
import { shortDigest, slackDate } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

export type StatusOptions = {
  /** Post the answer in the channel for everyone (`--share`), instead of only to the caller. */
  share: boolean;
};

const SHOWN_ROLLOUTS = 3;
const SHOWN_ACCEPTED = 5;

const section = (text: string): KnownBlock => ({ type: "section", text: { type: "mrkdwn", text } });

function identity(s: ImageStatus): string {
  const ref =
    s.image.digest === null ? s.image.repository : `${s.image.repository}@${shortDigest(s.image.digest)}`;
  const team = s.team === null ? "no owning team" : `team ${escapeMrkdwn(clipLine(s.team.name, 60))}`;
  return `*${renderImageLink(s.image)}* · \`${escapeMrkdwn(clipLine(ref, 160))}\` (${team})`;
}

function posture(s: ImageStatus): string {
  if (totalOf(s.open) === 0) return "No open findings";
  const parts = [renderSeverityCounts(s.open), `${s.fixable} fixable`];
  if (s.breached > 0) {
    const first = s.firstBreach;
    const which =
      first === null
        ? ""
        : ` (${renderVulnerabilityLink(first.vulnerabilityId)}, due ${slackDate(first.dueAt)})`;
    parts.push(`*${s.breached} past SLA*${which}`);
  }
  return parts.join(" · ");
}

function baseImage(s: ImageStatus): string | null {
  const b = s.baseImage;
  if (b === null) return null;
  const current = `Base image \`${escapeMrkdwn(clipLine(b.current, 80))}\``;
  const failed =
    b.error === null ? "" : `\n⚠️ Last registry check failed: ${escapeMrkdwn(clipLine(b.error, 300))}`;
  if (b.noLayers)
    return `${current} · its latest scan lists no layers, so patchpilot cannot tell which release it is built on (Trivy and Grype image scans list them)${failed}`;
  if (!b.checked) return `${current} · not checked against its registry yet${failed}`;
  const age =
    b.builtOnAt === null
      ? ""
      : ` · release of ${slackDate(b.builtOnAt)} (${daysBetween(b.builtOnAt, s.generatedAt)} days old)`;
  const fromBase =
    b.fromBase === null || totalOf(b.fromBase) === 0
      ? ""
      : ` · ${renderSeverityCounts(b.fromBase)} from the base`;
  if (b.available === null) return `${current} — up to date${age}${fromBase}${failed}`;
  const since =
    b.availableSince === null
      ? ""
      : ` since ${slackDate(b.availableSince)} (${daysBetween(b.availableSince, s.generatedAt)} days behind)`;
  const fixes =
    b.fixes === null
      ? ""
      : totalOf(b.fixes) === 0
        ? "; the new release fixes none of them"
        : `; bumping fixes ${renderSeverityCounts(b.fixes)}`;
  return `${current} — newer release \`${escapeMrkdwn(clipLine(shortDigest(b.available), 40))}\` available${since}${age}${fromBase}${fixes}${failed}`;
}

const daysBetween = (from: Date, to: Date) =>
  Math.max(0, Math.floor((to.getTime() - from.getTime()) / 86_400_000));

function listed(lines: string[], shown: number, what: string): string[] {
  const rest = lines.length - shown;
  return [...lines.slice(0, shown), ...(rest > 0 ? [`…and ${rest} more ${what}`] : [])];
}

function actions(s: ImageStatus): ActionsBlock {
  const value = JSON.stringify({ imageId: s.image.imageId });
  // A rebuild only helps when something has a fix or the base image moved on.
  const patchable = s.fixable > 0 || (s.baseImage !== null && s.baseImage.available !== null);
  return {
    type: "actions",
    elements: [
      ...(patchable
        ? [
            {
              type: "button" as const,
              text: { type: "plain_text" as const, text: "Patch now" },
              action_id: "status_patch_now",
              value,
              style: "primary" as const,
            },
          ]
        : []),
      { type: "button", text: { type: "plain_text", text: "History" }, action_id: "status_history", value },
    ],
  };
}

function scanned(s: ImageStatus): string {
  if (s.lastScan === null) return "not scanned yet";
  const n = s.lastScan.findings;
  return `scanned ${slackDate(s.lastScan.at, "{ago}")} by ${escapeMrkdwn(clipLine(s.lastScan.scanner, 60))} · ${n} finding${n === 1 ? "" : "s"}`;
}

function fallback(s: ImageStatus): string {
  const team = s.team === null ? "no owning team" : `team ${s.team.name}`;
  const parts = [
    totalOf(s.open) === 0 ? "no open findings" : renderSeverityWords(s.open),
    `${s.fixable} fixable`,
  ];
  if (s.breached > 0)
    parts.push(
      `${s.breached} past SLA${s.firstBreach === null ? "" : ` (${s.firstBreach.vulnerabilityId})`}`,
    );
  for (const r of s.rollouts.slice(0, SHOWN_ROLLOUTS)) parts.push(`rollout #${r.rolloutId} in progress`);
  return renderFallback(`${s.image.name} (${team}): ${parts.join(" · ")}`);
}

function build(s: ImageStatus, o: StatusOptions, shown: number): SlackMessage {
  const base = baseImage(s);
  const rollouts = listed(
    s.rollouts.map(renderRolloutProgress),
    Math.min(shown, SHOWN_ROLLOUTS),
    "rollouts in flight",
  );
  const accepted = listed(
    s.accepted.map((a) => `Accepted: ${renderAcceptedRiskLine(a, s.generatedAt, false)}`),
    Math.min(shown, SHOWN_ACCEPTED),
    "accepted risks",
  );
  const blocks: KnownBlock[] = [
    section(`${identity(s)}\n${posture(s)}`),
    ...(base === null ? [] : [section(base)]),
    ...linesToSections(rollouts),
    ...linesToSections(accepted),
    actions(s),
    { type: "context", elements: [{ type: "mrkdwn", text: scanned(s) }] },
  ];
  return { text: fallback(s), blocks, response_type: o.share ? "in_channel" : "ephemeral" };
}

/** The answer to `/patch status <image>`: where the image stands, and the buttons to act on it. */
export function renderStatus(s: ImageStatus, o: StatusOptions): SlackMessage {
  return renderFitted((shown) => build(s, o, shown), "message", SHOWN_ACCEPTED).rendered;
}
