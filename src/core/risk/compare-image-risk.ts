import type { ImageRiskSummary } from "./image-risk-summary.js";

// Riskiest first. Each count is compared only when all before it are equal:
//   1. known exploited (attackers already use them)
//   2. critical past SLA   3. critical
//   4. high past SLA       5. high
//   6. fixable (a rebuild removes them)
//   7. medium
//   8. imageId ascending, by UTF-16 code units (not locale), so the order is total and the same on
//      every machine.
const RISK_KEYS = [
  "knownExploited",
  "breachedCritical",
  "critical",
  "breachedHigh",
  "high",
  "fixable",
  "medium",
] as const satisfies ReadonlyArray<keyof ImageRiskSummary>;

/** Negative when `a` is riskier than `b` (sorts first), positive when less, 0 only for equal summaries. */
export function compareImageRisk(a: ImageRiskSummary, b: ImageRiskSummary): number {
  for (const key of RISK_KEYS) {
    if (a[key] !== b[key]) return b[key] - a[key] > 0 ? 1 : -1;
  }
  if (a.imageId === b.imageId) return 0;
  return a.imageId < b.imageId ? -1 : 1;
}
