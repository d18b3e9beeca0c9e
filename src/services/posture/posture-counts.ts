import { SEVERITIES } from "../../core/digest/severity-counts.js";
import type { ImageRiskSummary } from "../../core/risk/image-risk-summary.js";
import type { Severity } from "../../core/scan/normalized-report.js";

/**
 * What the posture queries count over open findings (the latest scan's findings that no
 * acceptance in force covers). Accepted findings are counted only in `acceptedCount`.
 */
export type PostureCounts = {
  open: Record<Severity, number>;
  /** Open findings with a fixed version available (`fix_state = 'fixed'`), any severity. */
  fixable: number;
  knownExploited: number;
  /** Open findings at or past their SLA due date. */
  breached: number;
  breachedCritical: number;
  breachedHigh: number;
  /** Open findings not yet breached that fall due within `dueSoonDays`. */
  dueSoon: number;
  /** Findings of the latest scan that an acceptance or VEX statement in force covers. */
  acceptedCount: number;
};

export function zeroPostureCounts(): PostureCounts {
  return {
    open: { critical: 0, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0 },
    fixable: 0,
    knownExploited: 0,
    breached: 0,
    breachedCritical: 0,
    breachedHigh: 0,
    dueSoon: 0,
    acceptedCount: 0,
  };
}

/** Adds `b` into `into` (mutating it): team and fleet totals are sums of image counts. */
export function addPostureCounts(into: PostureCounts, b: PostureCounts): PostureCounts {
  for (const s of SEVERITIES) into.open[s] += b.open[s];
  into.fixable += b.fixable;
  into.knownExploited += b.knownExploited;
  into.breached += b.breached;
  into.breachedCritical += b.breachedCritical;
  into.breachedHigh += b.breachedHigh;
  into.dueSoon += b.dueSoon;
  into.acceptedCount += b.acceptedCount;
  return into;
}

/** The counts `rankImagesByRisk` orders images by. */
export function toRiskSummary(imageId: string, c: PostureCounts): ImageRiskSummary {
  return {
    imageId,
    knownExploited: c.knownExploited,
    breachedCritical: c.breachedCritical,
    critical: c.open.critical,
    breachedHigh: c.breachedHigh,
    high: c.open.high,
    fixable: c.fixable,
    medium: c.open.medium,
  };
}
