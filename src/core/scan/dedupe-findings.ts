import type { NormalizedFinding } from "./normalized-report.js";

/**
 * One finding per fingerprint, the first one listed winning. Scanners list a match twice when two
 * matchers find it, and Clair once per repository that carries the advisory.
 */
export function dedupeFindings(findings: readonly NormalizedFinding[]): NormalizedFinding[] {
  const seen = new Set<string>();
  const unique: NormalizedFinding[] = [];
  for (const finding of findings) {
    if (seen.has(finding.fingerprint)) continue;
    seen.add(finding.fingerprint);
    unique.push(finding);
  }
  return unique;
}
