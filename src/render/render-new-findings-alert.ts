import type { KnownBlock } from "@slack/types";
import type { Severity } from "../core/scan/normalized-report.js";
import { renderAlertFindingLine } from "./render-alert-finding-line.js";
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

/** "New fixable critical / known-exploited" for one team and one image (MESSAGES.md). */
export function renderNewFindingsAlert(a: NewFindingsAlert): SlackMessage {
  const kev = a.findings.filter((f) => f.knownExploited).length;
  const crit = a.findings.filter((f) => f.severity === "critical").length;
  const what = kev > 0 ? `known-exploited${crit > 0 ? " or critical" : ""}` : "fixable critical";
  const n = a.findings.length;
  const name = escapeMrkdwn(a.image.name);
  const headline = `${SEVERITY_MARK.critical} ${n} new ${what} finding${n === 1 ? "" : "s"} in ${name} (team ${escapeMrkdwn(a.team)})`;
  const lines = a.findings.slice(0, SHOWN).map(renderAlertFindingLine);
  if (n > SHOWN) lines.push(`…and ${n - SHOWN} more: \`/patch status ${name}\``);
  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${headline}*` } },
    { type: "section", text: { type: "mrkdwn", text: lines.join("\n").slice(0, 2900) } },
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
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `${name} · \`${escapeMrkdwn(shortDigest(a.image.digest))}\` · scanned ${slackDate(a.scannedAt, "{date_short_pretty} {time}")} by ${escapeMrkdwn(a.scanner)}`,
      },
    ],
  });
  // The fallback is mrkdwn too: user-supplied names must not become mentions or links there.
  const text = first
    ? `${headline}: ${escapeMrkdwn(first.vulnerabilityId)} in ${escapeMrkdwn(first.packageName)}${n > 1 ? ` and ${n - 1} more` : ""}`
    : headline;
  return { text, blocks };
}
