import type { Vote } from "../../core/rollout/check-approver.js";
import type { ApprovalRow, LoadedRollout, StageRow } from "../../db/rollout-repository.js";
import { approvals } from "../../db/schema/index.js";
import type { Actor } from "./rollout-deps.js";
import type { RolloutStep } from "./rollout-tx.js";

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

/**
 * Records one approval of the stage's current round, bound to `candidateDigest`; null when the
 * same person's vote for that round and digest is already there (a replayed click). A vote
 * touches its stage, so the rollout's version moves with it (see `lockRollout`).
 */
export async function recordVote(
  step: RolloutStep,
  stage: StageRow,
  actor: Actor,
  vote: { candidateDigest: string | null; groups: string[]; reason: string | null; override?: boolean },
): Promise<ApprovalRow | null> {
  const [row] = await step.tx
    .insert(approvals)
    .values({
      stageId: stage.id,
      userId: actor.id,
      userName: actor.name,
      decision: "approve",
      reason: vote.reason,
      candidateDigest: vote.candidateDigest,
      round: stage.round,
      groups: vote.groups,
      override: vote.override ?? false,
      createdAt: step.now,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) return null;
  step.loaded.approvals.push(row);
  await step.setStage(stage, {});
  return row;
}
