import type { AcceptedRisk } from "./accepted-risk.js";

export type AcceptanceState = "active" | "expired" | "revoked";

/** Where an acceptance stands at `now`; a revocation wins over an expiry that came later. */
export function acceptanceState(a: Pick<AcceptedRisk, "until" | "revokedAt">, now: Date): AcceptanceState {
  if (a.revokedAt !== null && a.revokedAt.getTime() <= now.getTime()) return "revoked";
  if (a.until !== null && a.until.getTime() <= now.getTime()) return "expired";
  return "active";
}
