import type { Vote } from "../../core/rollout/check-approver.js";
import type { LoadedRollout, StageRow } from "../../db/rollout-repository.js";

/** The approvals of a stage's current round, as the policy functions count them. */
export function votesOf(loaded: LoadedRollout, stage: StageRow): Vote[] {
  return loaded.approvals
    .filter((a) => a.stageId === stage.id && a.round === stage.round && a.decision === "approve")
    .map((a) => ({
      userId: a.userId,
      userName: a.userName,
      groups: a.groups,
      digest: a.candidateDigest,
      at: a.createdAt,
      override: a.override,
    }));
}
