import type { SeverityCounts } from "../digest/severity-counts.js";
import { diffScans, type FindingKey, findingKey } from "../scan/diff-scans.js";

export type DeltaFinding = FindingKey & { knownExploited: boolean };

/** What deploying the candidate changes, compared with the running digest — the card's headline. */
export type CandidateDelta = {
  fixed: SeverityCounts;
  introduced: SeverityCounts;
  unchanged: number;
  /** Introduced critical or known-exploited findings ("CVE-2026-1 (openssl)"), by id. */
  blocking: string[];
  /** Fixed critical or known-exploited findings: what may qualify a rollout for the emergency lane. */
  fixedUrgent: DeltaFinding[];
};

export function candidateDelta(
  running: readonly DeltaFinding[],
  candidate: readonly DeltaFinding[],
): CandidateDelta {
  const { diff, newKeys } = diffScans(running, candidate);
  const blocking = new Map<string, string>();
  for (const f of candidate) {
    const k = findingKey(f);
    if (!newKeys.has(k) || !(f.severity === "critical" || f.knownExploited)) continue;
    blocking.set(k, `${f.vulnerabilityId} (${f.packageName}${f.knownExploited ? ", known exploited" : ""})`);
  }
  const urgent = new Map<string, DeltaFinding>();
  const remaining = new Set(candidate.map(findingKey));
  for (const f of running) {
    const k = findingKey(f);
    if (!remaining.has(k) && (f.severity === "critical" || f.knownExploited)) urgent.set(k, f);
  }
  return {
    fixed: diff.fixedBySeverity,
    introduced: diff.newBySeverity,
    unchanged: diff.unchanged,
    blocking: [...blocking.values()].sort(),
    fixedUrgent: [...urgent.values()],
  };
}
