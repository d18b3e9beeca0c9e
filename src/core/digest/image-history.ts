import type { AcceptedRisk } from "./accepted-risk.js";
import type { NamedImage } from "./named-image.js";
import type { SeverityCounts } from "./severity-counts.js";

export type ScanHistoryEntry = {
  at: Date;
  digest: string;
  /** Scanner name and version as the report gave them, e.g. "trivy 0.58.1". */
  scanner: string;
  newFindings: SeverityCounts;
  fixedFindings: SeverityCounts;
};

export type FinishedRollout = {
  rolloutId: number;
  finishedAt: Date;
  fromDigest: string | null;
  toDigest: string;
  fixed: SeverityCounts;
  outcome: "shipped" | "rolled_back";
};

/** The answer to `/patch history <image>`; each list in any order (the renderer puts newest first). */
export type ImageHistory = {
  image: NamedImage;
  generatedAt: Date;
  scans: ScanHistoryEntry[];
  rollouts: FinishedRollout[];
  /** Active, expired and revoked acceptances covering the image. */
  acceptances: AcceptedRisk[];
};
