import { SEVERITIES, type SeverityCounts, severityCounts } from "../digest/severity-counts.js";
import type { Severity } from "./normalized-report.js";

export type ScanDiff = {
  new: number;
  fixed: number;
  unchanged: number;
  newBySeverity: SeverityCounts;
  fixedBySeverity: SeverityCounts;
};
export type FindingKey = { vulnerabilityId: string; packageName: string; severity: Severity };

export const findingKey = (k: { vulnerabilityId: string; packageName: string }) =>
  `${k.vulnerabilityId}\u0000${k.packageName}`;

/**
 * new / fixed / unchanged between two scans of an image, by (vulnerability, package): a rebuild
 * that bumps a still-vulnerable package's version is "unchanged", not new. A key reported at
 * several paths counts once, at its highest severity.
 */
export function diffScans(before: readonly FindingKey[], after: readonly FindingKey[]) {
  const prev = new Map<string, FindingKey>();
  for (const k of before) keepWorst(prev, k);
  const present = new Map<string, FindingKey>();
  for (const f of after) keepWorst(present, f);
  const diff: ScanDiff = {
    new: 0,
    fixed: 0,
    unchanged: 0,
    newBySeverity: severityCounts(),
    fixedBySeverity: severityCounts(),
  };
  const newKeys = new Set<string>();
  for (const [k, f] of present) {
    if (prev.has(k)) diff.unchanged++;
    else {
      diff.new++;
      diff.newBySeverity[f.severity]++;
      newKeys.add(k);
    }
  }
  const goneKeys: FindingKey[] = [];
  for (const [k, f] of prev) {
    if (present.has(k)) continue;
    diff.fixed++;
    diff.fixedBySeverity[f.severity]++;
    goneKeys.push(f);
  }
  return { diff, newKeys, presentKeys: [...present.values()], goneKeys };
}

function keepWorst(map: Map<string, FindingKey>, f: FindingKey): void {
  const k = findingKey(f);
  const seen = map.get(k);
  if (!seen || SEVERITIES.indexOf(f.severity) < SEVERITIES.indexOf(seen.severity)) {
    map.set(k, { vulnerabilityId: f.vulnerabilityId, packageName: f.packageName, severity: f.severity });
  }
}
