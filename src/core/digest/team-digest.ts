import type { AcceptedRisk } from "./accepted-risk.js";
import type { AwaitingRollout } from "./awaiting-rollout.js";
import type { BaseImageMove } from "./base-image-move.js";
import type { ImageRiskRow } from "./image-risk-row.js";
import type { SeverityCounts } from "./severity-counts.js";
import type { ShippedPatches } from "./shipped-patches.js";
import type { SlaBreach } from "./sla-breach.js";
import type { TeamPosture } from "./team-posture.js";
import type { UnownedImage } from "./unowned-image.js";

/** Everything one team's weekly digest shows; filled from the posture queries. */
export type TeamDigest = TeamPosture & {
  /** How people name the period, e.g. "week 48". */
  periodLabel: string;
  generatedAt: Date;
  /** Open counts when the previous digest was posted; null before the first one. */
  previousOpen: SeverityCounts | null;
  /** Findings first seen since the previous digest. */
  newSinceLast: SeverityCounts;
  rolloutsAwaitingApproval: AwaitingRollout[];
  slaBreaches: SlaBreach[];
  /** The team's images; the renderer ranks them with `rankImagesByRisk`. */
  topImages: ImageRiskRow[];
  baseImagesMoved: BaseImageMove[];
  shipped: ShippedPatches;
  /** Active acceptances ending within `ACCEPTANCE_EXPIRY_HORIZON_DAYS` (see `expiringAcceptances`). */
  expiringAcceptances: AcceptedRisk[];
  unownedImages: UnownedImage[];
  /** Set when the trend chart is uploaded into the digest's thread. */
  chartAttached: boolean;
};
