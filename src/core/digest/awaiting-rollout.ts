import type { NamedImage } from "./named-image.js";
import type { SeverityCounts } from "./severity-counts.js";

/** A rollout stopped at a stage until enough approvers say yes. */
export type AwaitingRollout = {
  rolloutId: number;
  image: NamedImage;
  /** The stage waiting for approval (`canary`, `production`). */
  stage: string;
  /** Slack user group whose members may approve (`S0PAY`), if the policy names one. */
  approverGroupId: string | null;
  approvalsMissing: number;
  /** Why the rollout was requested, as its requester wrote it. */
  reason: string | null;
  /** Findings the candidate digest no longer has. */
  fixes: SeverityCounts;
  requestedAt: Date;
  /** When the approval request lapses, if it does. */
  expiresAt: Date | null;
};
