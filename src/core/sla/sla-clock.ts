import type { Severity } from "../scan/normalized-report.js";
import { DAY_MS, type SlaPolicy, type SlaSeverity } from "./sla-policy.js";

export type SlaState = "within" | "due_soon" | "breached" | "none";

export type SlaClock = {
  dueAt: Date | null;
  state: SlaState;
  /**
   * Whole days between now and the due date, rounded toward zero: positive before it, negative
   * once past it (-2 = at least two days overdue). 0 is both "due within a day" and "overdue by
   * less than a day"; `state` tells them apart.
   */
  daysLeft: number | null;
};

export type SlaFinding = { severity: Severity; firstSeenAt: Date; knownExploited: boolean };

const NO_CLOCK: SlaClock = { dueAt: null, state: "none", daysLeft: null };

function hasSla(severity: Severity): severity is SlaSeverity {
  return severity === "critical" || severity === "high" || severity === "medium" || severity === "low";
}

/**
 * Days until a finding is due. A known-exploited finding gets the shorter of its severity's SLA
 * and the KEV SLA; one whose severity has no SLA (negligible, unknown — often a CVE not yet
 * scored) still gets the KEV SLA, because being exploited in the wild is what makes it urgent.
 */
function slaDays(finding: SlaFinding, policy: SlaPolicy): number | null {
  const bySeverity = hasSla(finding.severity) ? policy.days[finding.severity] : null;
  const kev = finding.knownExploited ? policy.knownExploitedDays : null;
  if (bySeverity === null) return kev;
  return kev === null ? bySeverity : Math.min(bySeverity, kev);
}

/** Where a finding stands against its remediation deadline. Days are 24 h of UTC time. */
export function slaClock(finding: SlaFinding, policy: SlaPolicy, now: Date): SlaClock {
  const days = slaDays(finding, policy);
  if (days === null) return NO_CLOCK;
  const dueAt = new Date(finding.firstSeenAt.getTime() + days * DAY_MS);
  const remaining = dueAt.getTime() - now.getTime();
  // `|| 0` turns the -0 of a just-breached clock into 0.
  const daysLeft = Math.trunc(remaining / DAY_MS) || 0;
  const state =
    remaining <= 0 ? "breached" : remaining <= policy.dueSoonDays * DAY_MS ? "due_soon" : "within";
  return { dueAt, state, daysLeft };
}
