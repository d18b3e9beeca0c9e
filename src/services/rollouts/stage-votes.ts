import type { Vote } from "../../core/rollout/check-approver.js";
import type { ApprovalRow, LoadedRollout, StageRow } from "../../db/rollout-repository.js";
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

const VOTE_INSERT = `INSERT INTO approvals
  (stage_id, user_id, user_name, decision, reason, candidate_digest, round, groups, override, created_at)
  VALUES ($1, $2, $3, 'approve', $4, $5, $6, $7::jsonb, $8, $9)`;

/**
 * Records one approval of the stage's current round, bound to `candidateDigest`. The insert is
 * sent with the decision's COMMIT (`step.write`), not on its own: the decision holds the
 * rollout's lock and read its votes under it (`lockRollout`), and the caller has checked that
 * this person has not voted in this round (`checkApprover`), so the unique vote constraint
 * cannot fire; if it ever did, the whole decision would roll back, never count a vote twice.
 * A vote touches its stage, so the rollout's version moves with it (see `lockRollout`).
 */
export async function recordVote(
  step: RolloutStep,
  stage: StageRow,
  actor: Actor,
  vote: { candidateDigest: string | null; groups: string[]; reason: string | null; override?: boolean },
): Promise<void> {
  const row: ApprovalRow = {
    stageId: stage.id,
    userId: actor.id,
    userName: actor.name ?? null,
    decision: "approve",
    reason: vote.reason,
    candidateDigest: vote.candidateDigest,
    round: stage.round,
    groups: vote.groups,
    override: vote.override ?? false,
    createdAt: step.now,
  };
  step.write({
    text: VOTE_INSERT,
    values: [
      row.stageId,
      row.userId,
      row.userName,
      row.reason,
      row.candidateDigest,
      row.round,
      JSON.stringify(row.groups),
      row.override,
      row.createdAt,
    ],
  });
  step.loaded.approvals.push(row);
  await step.setStage(stage, {});
}
