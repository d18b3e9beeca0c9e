import type { Severity } from "../scan/normalized-report.js";

/** Severities that carry a remediation deadline; negligible and unknown findings have none. */
export type SlaSeverity = Extract<Severity, "critical" | "high" | "medium" | "low">;

export type SlaPolicy = {
  /** Days from first seen until the fix is due, per severity. */
  days: Record<SlaSeverity, number>;
  /** A shorter deadline for known-exploited (KEV) findings; null turns it off. */
  knownExploitedDays: number | null;
  /** A clock turns "due soon" this many days before it is due. */
  dueSoonDays: number;
};

export const DEFAULT_SLA_POLICY: SlaPolicy = {
  days: { critical: 7, high: 30, medium: 90, low: 180 },
  knownExploitedDays: null,
  dueSoonDays: 7,
};

export const DAY_MS = 24 * 60 * 60 * 1000;
