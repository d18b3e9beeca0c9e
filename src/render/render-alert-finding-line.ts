import { clipLine } from "./render-clip.js";
import { renderVulnerabilityLink } from "./render-links.js";
import type { AlertFinding } from "./render-new-findings-alert.js";
import { SEVERITY_MARK, slackDate } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

// Scan reports are user text: a package or version this long is already unreadable in a list.
const MAX_PACKAGE = 80;
const MAX_VERSION = 40;
const MAX_FIXED = 80;

/** "• 🔴 *CVE-…* known exploited · libexpat 2.5.0 → fixed in 2.6.3 · CVSS 9.8 · SLA due …" */
export function renderAlertFindingLine(f: AlertFinding): string {
  const id = renderVulnerabilityLink(f.vulnerabilityId);
  const version = f.installedVersion ? ` ${escapeMrkdwn(clipLine(f.installedVersion, MAX_VERSION))}` : "";
  const pkg = `${escapeMrkdwn(clipLine(f.packageName, MAX_PACKAGE))}${version}`;
  const fix =
    f.fixedVersions.length > 0
      ? ` → fixed in ${escapeMrkdwn(clipLine(f.fixedVersions.join(", "), MAX_FIXED))}`
      : " · no fix yet";
  const parts = [
    `${SEVERITY_MARK[f.severity]} *${id}*${f.knownExploited ? " *known exploited*" : ""}`,
    `${pkg}${fix}`,
    ...(f.cvssScore !== null ? [`CVSS ${f.cvssScore.toFixed(1)}`] : []),
    ...(f.dueAt ? [`SLA due ${slackDate(f.dueAt)}`] : []),
  ];
  return `• ${parts.join(" · ")}`;
}

/** A finding for a one-line fallback: "CVE-… in libexpat", clipped and escaped. */
export function renderAlertFindingFallback(f: AlertFinding): string {
  return `${escapeMrkdwn(clipLine(f.vulnerabilityId, 60))} in ${escapeMrkdwn(clipLine(f.packageName, MAX_PACKAGE))}`;
}
