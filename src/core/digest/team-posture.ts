import type { SeverityCounts } from "./severity-counts.js";
import type { TeamRef } from "./team-ref.js";

/** A team's headline numbers: what the digest, `/patch status <team>` and App Home lead with. */
export type TeamPosture = {
  team: TeamRef;
  /** Open findings, not counting accepted ones. */
  open: SeverityCounts;
  fixable: number;
  /** Open findings past their SLA. */
  breached: number;
  /** Open findings that fall due within `dueSoonDays`. */
  dueSoon: number;
  dueSoonDays: number;
  acceptedCount: number;
  scannedImages: number;
  lastScanAt: Date | null;
};
