import type { Severity } from "../scan/normalized-report.js";
import type { SlaBreach } from "./sla-breach.js";

const SEVERITY_RANK: Record<Severity, number> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
  negligible: 4,
  unknown: 5,
};

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The breach to decide on first: known exploited, then the most severe, then the longest overdue;
 * ties by vulnerability id and image name, so the order is the same on every run.
 */
export function orderSlaBreaches(breaches: readonly SlaBreach[]): SlaBreach[] {
  return [...breaches].sort(
    (a, b) =>
      Number(b.knownExploited) - Number(a.knownExploited) ||
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      b.daysPastDue - a.daysPastDue ||
      byText(a.vulnerabilityId, b.vulnerabilityId) ||
      byText(a.image.name, b.image.name),
  );
}
