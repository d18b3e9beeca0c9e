import type { CandidateDelta } from "./candidate-delta.js";
import type { RolloutState } from "./rollout-state.js";
import type { StageHealth } from "./stage-health.js";
import type { StageKind, StageState } from "./stage-state.js";

/** Everything the rollout card shows, read from the database at delivery time. */
export type RolloutCardView = {
  rolloutId: number;
  now: Date;
  image: { id: string; repository: string };
  team: { id: string; name: string; channel: string } | null;
  state: RolloutState;
  trigger: "manual" | "patch-now" | "auto-critical" | "base-image" | (string & {});
  reason: string | null;
  requestedBy: { id: string; name: string | null };
  createdAt: Date;
  runningDigest: string | null;
  candidateDigest: string | null;
  /** Whether the candidate has a scan yet (nothing can be approved before). */
  candidateScanned: boolean;
  /** Fixed / introduced / unchanged between running and candidate; null until both are scanned. */
  delta: CandidateDelta | null;
  /** The earliest SLA deadline among the findings the candidate fixes. */
  slaDeadline: { vulnerabilityId: string; dueAt: Date } | null;
  stages: RolloutCardStage[];
};

export type RolloutCardStage = {
  name: string;
  kind: StageKind;
  state: StageState;
  approvalsRequired: number;
  approverGroups: string[];
  approverUsers: string[];
  requiredGroups: string[];
  /** Production-like: approving opens a confirmation dialog. */
  confirm: boolean;
  /** What the quorum still lacks ("1 more approval", "1 from <!subteam^S0SEC>"); empty when met. */
  missing: string[];
  approvals: Array<{ userId: string; userName: string | null; at: Date; override: boolean }>;
  requestedAt: Date | null;
  expiresAt: Date | null;
  /** Who rejected, retried or cancelled it, and why. */
  decidedBy: string | null;
  decisionReason: string | null;
  /** The maintenance window the stage's policy names, and when it next opens if closed. */
  window: { name: string; timezone: string; cron: string; duration: string; opensAt: Date | null } | null;
  /** Why an approved stage is not dispatched yet (a window it waits for, a freeze). */
  blockedReason: string | null;
  scheduledFor: Date | null;
  emergency: boolean;
  run: { id: string | null; url: string | null; status: string | null; conclusion: string | null } | null;
  dispatchedAt: Date | null;
  completedAt: Date | null;
  /** The health gate of a deployed stage (baking, or its result with the numbers seen). */
  health: StageHealth | null;
};

/** What a card button carries: the rollout, the stage and the candidate it was rendered for. */
export type RolloutButtonValue = { rollout: number; stage: string; digest: string | null };

export const ROLLOUT_ACTIONS = {
  approve: "rollout_approve",
  reject: "rollout_reject",
  retry: "rollout_retry",
  requestAgain: "rollout_request_again",
  rollback: "rollout_rollback",
  promote: "rollout_promote",
  cancel: "rollout_cancel",
} as const;
