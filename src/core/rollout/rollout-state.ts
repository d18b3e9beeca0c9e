import type { StageKind, StageState } from "./stage-state.js";

export const ROLLOUT_STATES = [
  "active",
  "halted",
  "done",
  "cancelled",
  "rolling_back",
  "rolled_back",
] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export type StageSummary = {
  name: string;
  kind: StageKind;
  state: StageState;
  position: number;
  /** When its workflow was last dispatched; null if never. */
  dispatchedAt: Date | null;
};

/**
 * A rollout's state follows from its stages, so the two can never disagree: a rollback stage
 * decides it once one exists; otherwise done when every forward stage is done, cancelled when the
 * rest was cancelled, halted while a stage waits for a person after a failure, rejection or expiry.
 */
export function rolloutState(stages: readonly StageSummary[]): RolloutState {
  const rollback = [...stages]
    .filter((s) => s.kind === "rollback")
    .sort((a, b) => b.position - a.position)[0];
  if (rollback) {
    if (rollback.state === "done") return "rolled_back";
    if (rollback.state === "cancelled") return "halted";
    if (rollback.state === "failed" || rollback.state === "rejected" || rollback.state === "expired")
      return "halted";
    return "rolling_back";
  }
  const deploy = stages.filter((s) => s.kind !== "rollback");
  if (deploy.length > 0 && deploy.every((s) => s.state === "done")) return "done";
  if (deploy.some((s) => s.state === "cancelled")) return "cancelled";
  if (deploy.some((s) => s.state === "failed" || s.state === "rejected" || s.state === "expired"))
    return "halted";
  return "active";
}

/** The stage that moves next: the first forward (build or deploy) stage, in order, not done. */
export function currentStage<T extends StageSummary>(stages: readonly T[]): T | null {
  return (
    [...stages]
      .filter((s) => s.kind !== "rollback")
      .sort((a, b) => a.position - b.position)
      .find((s) => s.state !== "done") ?? null
  );
}

/**
 * Cancel is for rollouts that have not reached their last stage; after that, roll back. A stage
 * whose workflow is running cannot be stopped from here either: wait for it, or roll back.
 */
export function cancelRefusal(stages: readonly StageSummary[]): string | null {
  const state = rolloutState(stages);
  if (state === "cancelled") return "This rollout is already cancelled.";
  if (state === "rolling_back") return "This rollout is being rolled back.";
  if (state === "rolled_back") return "This rollout was rolled back; nothing is left to cancel.";
  const forward = [...stages].filter((s) => s.kind !== "rollback").sort((a, b) => a.position - b.position);
  const last = forward[forward.length - 1];
  if (last && last.dispatchedAt !== null) return `${last.name} has been deployed; roll back instead.`;
  const running = forward.find((s) => s.state === "dispatched" || s.state === "deploying");
  if (running) return `${running.name} is deploying now; wait for it to finish, or roll back.`;
  return null;
}

/**
 * The stage a rollback undoes: the furthest deploy stage whose workflow was ever dispatched (it may
 * have changed something, even if it later failed or was retried), or null when nothing was
 * deployed yet (then cancel instead).
 */
export function rollbackTarget<T extends StageSummary>(stages: readonly T[]): T | null {
  const touched = stages
    .filter((s) => s.kind === "deploy" && s.dispatchedAt !== null)
    .sort((a, b) => b.position - a.position);
  return touched[0] ?? null;
}
