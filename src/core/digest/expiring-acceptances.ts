import { DAY_MS } from "../sla/sla-policy.js";
import { acceptanceState } from "./acceptance-state.js";
import type { AcceptedRisk } from "./accepted-risk.js";

/** How far ahead the digest warns about acceptances running out: two digests' notice. */
export const ACCEPTANCE_EXPIRY_HORIZON_DAYS = 14;

/**
 * Active acceptances that end within `days` of `now`, soonest first (ties by vulnerability id), so
 * the one that will count again first is named first.
 */
export function expiringAcceptances(
  accepted: readonly AcceptedRisk[],
  now: Date,
  days = ACCEPTANCE_EXPIRY_HORIZON_DAYS,
): AcceptedRisk[] {
  const horizon = now.getTime() + days * DAY_MS;
  const soon = accepted.filter(
    (a) => acceptanceState(a, now) === "active" && a.until !== null && a.until.getTime() <= horizon,
  );
  return soon.sort(
    (a, b) =>
      (a.until?.getTime() ?? 0) - (b.until?.getTime() ?? 0) ||
      (a.vulnerabilityId < b.vulnerabilityId ? -1 : a.vulnerabilityId > b.vulnerabilityId ? 1 : 0),
  );
}
