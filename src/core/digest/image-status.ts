import type { AcceptedRisk } from "./accepted-risk.js";
import type { NamedImage } from "./named-image.js";
import type { SeverityCounts } from "./severity-counts.js";
import type { TeamRef } from "./team-ref.js";

export type RolloutStageState =
  | "done"
  | "running"
  /** Deployed; baking or waiting for its health gate. */
  | "verifying"
  /** Its health gate could not judge it: a person must promote or roll back. */
  | "health_inconclusive"
  | "awaiting_approval"
  | "waiting_for_window"
  | "pending"
  | "failed"
  | "rolled_back";

export type RolloutStageProgress = {
  name: string;
  state: RolloutStageState;
  approvalsMissing: number;
  /** The next opening of the stage's maintenance window, and the zone the window is defined in. */
  window: { opensAt: Date; timeZone: string } | null;
};

export type RolloutInFlight = { rolloutId: number; reason: string | null; stages: RolloutStageProgress[] };

export type BaseImageUpdate = {
  current: string;
  /** Whether the registry was asked; until then nothing is claimed about newer releases. */
  checked: boolean;
  /** The digest the base tag points to now, when the image is not built on it; null when up to date. */
  available: string | null;
  availableSince: Date | null;
  /** What rebuilding on `available` would fix, when the new base's own scan is known. */
  fixes: SeverityCounts | null;
  /** The image's open findings that come from its base's layers; null when not attributed. */
  fromBase: SeverityCounts | null;
  /** When the base release the image is built on was made (its age), when known. */
  builtOnAt: Date | null;
  /** Why the last check of the registry failed, in words that say what to fix. */
  error: string | null;
  /** The registry was read, but the image's latest scan lists no layers to compare with. */
  noLayers?: boolean;
};

/** The answer to `/patch status <image>`. */
export type ImageStatus = {
  generatedAt: Date;
  image: NamedImage & { digest: string | null };
  team: TeamRef | null;
  open: SeverityCounts;
  fixable: number;
  breached: number;
  /** The breached finding that fell due first. */
  firstBreach: { vulnerabilityId: string; dueAt: Date } | null;
  baseImage: BaseImageUpdate | null;
  rollouts: RolloutInFlight[];
  /** Active acceptances covering this image. */
  accepted: AcceptedRisk[];
  lastScan: { at: Date; scanner: string; findings: number } | null;
};
