import type { ImageRiskSummary } from "../../core/risk/image-risk-summary.js";
import type { ImagePostureRow } from "./image-posture-rows.js";
import { type PostureCounts, toRiskSummary } from "./posture-counts.js";

/** A scanned image's counts in the shape `rankImagesByRisk` ranks, with what names it. */
export type ImageRiskPosture = ImageRiskSummary & {
  name: string;
  configId: string | null;
  repository: string;
  teamId: string | null;
  baseImage: string | null;
  latestDigest: string | null;
  lastScanAt: Date | null;
  counts: PostureCounts;
};

export function toImageRiskPosture(row: ImagePostureRow): ImageRiskPosture {
  return {
    ...toRiskSummary(row.imageId, row.counts),
    name: row.name,
    configId: row.configId,
    repository: row.repository,
    teamId: row.teamId,
    baseImage: row.baseImage,
    latestDigest: row.latestDigest,
    lastScanAt: row.lastScanAt,
    counts: row.counts,
  };
}
