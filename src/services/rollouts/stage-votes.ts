import { sql } from "drizzle-orm";
import type { Vote } from "../../core/rollout/check-approver.js";
import type { ApprovalRow, LoadedRollout, StageRow, Tx } from "../../db/rollout-repository.js";
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
 * The vote's insert, built once per transaction handle (one per pooled connection) and sent as a
 * named prepared statement: it is in every approval's transaction.
 */
function buildVoteInsert(tx: Tx) {
  return tx
    .insert(approvals)
    .values({
      stageId: sql.placeholder("stageId"),
      userId: sql.placeholder("userId"),
      userName: sql.placeholder("userName"),
      decision: "approve",
      reason: sql.placeholder("reason"),
      candidateDigest: sql.placeholder("candidateDigest"),
      round: sql.placeholder("round"),
      groups: sql.placeholder("groups"),
      override: sql.placeholder("override"),
      createdAt: sql.placeholder("createdAt"),
    })
    .onConflictDoNothing()
    .returning()
    .prepare("pp_record_vote");
}
const voteInserts = new WeakMap<Tx, ReturnType<typeof buildVoteInsert>>();
function voteInsertOf(tx: Tx): ReturnType<typeof buildVoteInsert> {
  let insert = voteInserts.get(tx);
  if (!insert) {
    insert = buildVoteInsert(tx);
    voteInserts.set(tx, insert);
  }
  return insert;
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
  const [row] = await voteInsertOf(step.tx).execute({
    stageId: stage.id,
    userId: actor.id,
    userName: actor.name ?? null,
    reason: vote.reason,
    candidateDigest: vote.candidateDigest,
    round: stage.round,
    groups: vote.groups,
    override: vote.override ?? false,
    createdAt: step.now,
  });
  if (!row) return null;
  step.loaded.approvals.push(row);
  await step.setStage(stage, {});
  return row;
}
