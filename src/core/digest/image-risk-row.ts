import type { ImageRiskSummary } from "../risk/image-risk-summary.js";

/** One image of a team, as the posture query returns it: risk counts plus what a reader needs to act. */
export type ImageRiskRow = ImageRiskSummary & {
  name: string;
  repository: string;
  latestDigest: string | null;
  baseImage: string | null;
  /** Days since a newer release of the base image came out that this image is not built on. */
  baseImageBehindDays: number | null;
  lastScanAt: Date | null;
  /** The rollout in flight for this image, if any. */
  rollout: { rolloutId: number; stage: string; awaitingApproval: boolean } | null;
};
