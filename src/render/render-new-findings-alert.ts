import type { KnownBlock } from "@slack/types";
import type { Severity } from "../core/scan/normalized-report.js";
import { advisoryUrl, SEVERITY_MARK, shortDigest, slackDate } from "./severity.js";
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
  image: { name: string; repository: string; digest: string };
  team: string;
  scannedAt: Date;
  scanner: string;
  findings: AlertFinding[];
};

const SHOWN = 10;

/** "New fixable critical / known-exploited" for one team and one scan (MESSAGES.md). */
export function renderNewFindingsAlert(a: NewFindingsAlert): SlackMessage {
  const kev = a.findings.filter((f) => f.knownExploited).length;
  const crit = a.findings.filter((f) => f.severity === "critical").length;
  const what = kev > 0 ? `known-exploited${crit > 0 ? " or critical" : ""}` : "fixable critical";
  const n = a.findings.length;
  const name = escapeMrkdwn(a.image.name);
  const headline = `${SEVERITY_MARK.critical} ${n} new ${what} finding${n === 1 ? "" : "s"} in ${a.image.name} (team ${a.team})`;
  const lines = a.findings.slice(0, SHOWN).map((f) => {
    const url = advisoryUrl(f.vulnerabilityId);
    const id = url ? `<${url}|${f.vulnerabilityId}>` : escapeMrkdwn(f.vulnerabilityId);
    const pkg = `${escapeMrkdwn(f.packageName)}${f.installedVersion ? ` ${escapeMrkdwn(f.installedVersion)}` : ""}`;
    const fix =
      f.fixedVersions.length > 0
        ? ` → fixed in ${escapeMrkdwn(f.fixedVersions.join(", "))}`
        : " · no fix yet";
    const parts = [
      `${SEVERITY_MARK[f.severity]} *${id}*${f.knownExploited ? " *known exploited*" : ""}`,
      `${pkg}${fix}`,
      ...(f.cvssScore !== null ? [`CVSS ${f.cvssScore.toFixed(1)}`] : []),
      ...(f.dueAt ? [`SLA due ${slackDate(f.dueAt)}`] : []),
    ];
    return `• ${parts.join(" · ")}`;
  });
  if (n > SHOWN) lines.push(`…and ${n - SHOWN} more: \`/patch status ${a.image.name}\``);
  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${escapeMrkdwn(headline)}*` } },
    { type: "section", text: { type: "mrkdwn", text: lines.join("\n").slice(0, 2900) } },
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `${name} · \`${escapeMrkdwn(shortDigest(a.image.digest))}\` · scanned ${slackDate(a.scannedAt, "{date_short_pretty} {time}")} by ${escapeMrkdwn(a.scanner)}`,
        },
      ],
    },
  ];
  const first = a.findings[0];
  const text = first
    ? `${headline}: ${first.vulnerabilityId} in ${first.packageName}${n > 1 ? ` and ${n - 1} more` : ""}`
    : headline;
  return { text, blocks };
}
