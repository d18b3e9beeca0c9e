import type { Severity } from "../scan/normalized-report.js";

/** Open findings per severity, as a posture query counts them. */
export type SeverityCounts = Record<Severity, number>;

/** Most severe first: the order every message lists counts in. */
export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low", "negligible", "unknown"];

/** Counts with every severity present; the ones not given are 0. */
export function severityCounts(partial: Partial<SeverityCounts> = {}): SeverityCounts {
  return {
    critical: partial.critical ?? 0,
    high: partial.high ?? 0,
    medium: partial.medium ?? 0,
    low: partial.low ?? 0,
    negligible: partial.negligible ?? 0,
    unknown: partial.unknown ?? 0,
  };
}

/** The sum over `severities` (all of them unless given). */
export function totalOf(counts: SeverityCounts, severities: readonly Severity[] = SEVERITIES): number {
  return severities.reduce((sum, s) => sum + counts[s], 0);
}
