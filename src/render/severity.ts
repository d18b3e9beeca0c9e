import type { Severity } from "../core/scan/normalized-report.js";

/** One mark per severity, used the same way in every message (MESSAGES.md). */
export const SEVERITY_MARK: Record<Severity, string> = {
  critical: "🔴",
  high: "🟠",
  medium: "🟡",
  low: "⚪",
  negligible: "⚪",
  unknown: "⚪",
};

/** Slack date token: each reader sees their own time zone; the fallback is UTC. */
export function slackDate(d: Date, format = "{date_short_pretty}"): string {
  const fallback = d.toISOString().slice(0, 10);
  return `<!date^${Math.floor(d.getTime() / 1000)}^${format}|${fallback}>`;
}

/**
 * The advisory page for a vulnerability id: NVD for CVEs, GitHub for GHSAs, else none. A CVE
 * number longer than 19 digits (real ones have 4 to 7) is not linked, so scan text cannot
 * turn into a link thousands of characters long.
 */
export function advisoryUrl(id: string): string | null {
  if (/^CVE-\d{4}-\d{4,19}$/.test(id)) return `https://nvd.nist.gov/vuln/detail/${id}`;
  if (/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/.test(id)) return `https://github.com/advisories/${id}`;
  return null;
}

export function shortDigest(digest: string): string {
  const [alg, hex] = digest.split(":");
  return hex ? `${alg}:${hex.slice(0, 12)}…` : digest;
}
