import { rankImagesByRisk } from "../../core/risk/rank-images-by-risk.js";
import type { ImageRiskPosture } from "./image-risk-posture.js";
import { addPostureCounts, type PostureCounts, zeroPostureCounts } from "./posture-counts.js";

/** A team's headline numbers (the fields of core/digest's `TeamPosture`) and its ranked images. */
export type TeamPostureSummary = PostureCounts & {
  team: { id: string; name: string };
  dueSoonDays: number;
  scannedImages: number;
  lastScanAt: Date | null;
  /** Scanned images of the team, riskiest first (`rankImagesByRisk`). */
  images: ImageRiskPosture[];
};

/** Sums image counts into team totals; the images are ranked riskiest first. */
export function teamTotals(
  team: { id: string; name: string },
  images: readonly ImageRiskPosture[],
  dueSoonDays: number,
): TeamPostureSummary {
  const totals = zeroPostureCounts();
  let lastScanAt: Date | null = null;
  for (const image of images) {
    addPostureCounts(totals, image.counts);
    if (image.lastScanAt !== null && (lastScanAt === null || image.lastScanAt > lastScanAt)) {
      lastScanAt = image.lastScanAt;
    }
  }
  return {
    ...totals,
    team,
    dueSoonDays,
    scannedImages: images.length,
    lastScanAt,
    images: rankImagesByRisk(images),
  };
}
