import type { KnownBlock } from "@slack/types";
import type { Severity } from "../core/scan/normalized-report.js";
import { renderAlertFindingFallback, renderAlertFindingLine } from "./render-alert-finding-line.js";
import { clipLine } from "./render-clip.js";
import { renderFitted } from "./render-fitted.js";
import { SEVERITY_MARK, shortDigest, slackDate } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

export type AlertFinding = {
  vulnerabilityId: string;
  packageName: string;
  installedVersion: string | null;
  fixedVersions: string[];
  severity: Severity;
  knownExploited: boolean;
  cvssScore: number | null;
  dueAt: Date | null;
};

export type NewFindingsAlert = {
  /** With `imageId`, the alert carries a "Patch now" button for its most urgent finding. */
  image: { name: string; repository: string; digest: string; imageId?: string };
  team: string;
  scannedAt: Date;
  scanner: string;
  /** Most urgent first. */
  findings: AlertFinding[];
};

const SHOWN = 10;
const MAX_NAME = 80;
const MAX_TEAM = 60;
const MAX_SCANNER = 60;

/** "New fixable critical / known-exploited" for one team and one image (MESSAGES.md). */
export function renderNewFindingsAlert(a: NewFindingsAlert): SlackMessage {
  // Lines are clipped so ten fit in practice; fitting is the guarantee for text that escapes long.
  return renderFitted((shown) => alertMessage(a, shown), "message", SHOWN).rendered;
}

function alertMessage(a: NewFindingsAlert, shown: number): SlackMessage {
  const kev = a.findings.filter((f) => f.knownExploited).length;
  const crit = a.findings.filter((f) => f.severity === "critical").length;
  const what = kev > 0 ? `known-exploited${crit > 0 ? " or critical" : ""}` : "fixable critical";
  const n = a.findings.length;
  const name = escapeMrkdwn(clipLine(a.image.name, MAX_NAME));
  const team = escapeMrkdwn(clipLine(a.team, MAX_TEAM));
  const headline = `${SEVERITY_MARK.critical} ${n} new ${what} finding${n === 1 ? "" : "s"} in ${name} (team ${team})`;
  const lines = a.findings.slice(0, shown).map(renderAlertFindingLine);
  if (n > shown) lines.push(`…and ${n - shown} more: \`/patch status ${name}\``);
  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${headline}*` } },
    { type: "section", text: { type: "mrkdwn", text: lines.join("\n") } },
  ];
  const first = a.findings[0];
  if (first && a.image.imageId) {
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: "Patch now" },
          action_id: "digest_patch_now",
          style: "primary",
          value: JSON.stringify({
            imageId: a.image.imageId,
            vulnerabilityId: first.vulnerabilityId.slice(0, 200),
          }),
        },
      ],
    });
  }
  const digest = escapeMrkdwn(clipLine(shortDigest(a.image.digest), MAX_NAME));
  const scanner = escapeMrkdwn(clipLine(a.scanner, MAX_SCANNER));
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `${name} · \`${digest}\` · scanned ${slackDate(a.scannedAt, "{date_short_pretty} {time}")} by ${scanner}`,
      },
    ],
  });
  // The fallback is mrkdwn too: user-supplied names must not become mentions or links there.
  const text = first
    ? `${headline}: ${renderAlertFindingFallback(first)}${n > 1 ? ` and ${n - 1} more` : ""}`
    : headline;
  return { text, blocks };
}
