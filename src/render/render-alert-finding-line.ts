import type { AlertFinding } from "./render-new-findings-alert.js";
import { advisoryUrl, SEVERITY_MARK, slackDate } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

/** "• 🔴 *CVE-…* known exploited · libexpat 2.5.0 → fixed in 2.6.3 · CVSS 9.8 · SLA due …" */
export function renderAlertFindingLine(f: AlertFinding): string {
  const url = advisoryUrl(f.vulnerabilityId);
  const id = url ? `<${url}|${escapeMrkdwn(f.vulnerabilityId)}>` : escapeMrkdwn(f.vulnerabilityId);
  const pkg = `${escapeMrkdwn(f.packageName)}${f.installedVersion ? ` ${escapeMrkdwn(f.installedVersion)}` : ""}`;
  const fix =
    f.fixedVersions.length > 0 ? ` → fixed in ${escapeMrkdwn(f.fixedVersions.join(", "))}` : " · no fix yet";
  const parts = [
    `${SEVERITY_MARK[f.severity]} *${id}*${f.knownExploited ? " *known exploited*" : ""}`,
    `${pkg}${fix}`,
    ...(f.cvssScore !== null ? [`CVSS ${f.cvssScore.toFixed(1)}`] : []),
    ...(f.dueAt ? [`SLA due ${slackDate(f.dueAt)}`] : []),
  ];
  return `• ${parts.join(" · ")}`;
}
