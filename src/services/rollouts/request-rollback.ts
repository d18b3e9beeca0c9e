import { quorum } from "../../core/rollout/quorum.js";
import { rollbackTarget } from "../../core/rollout/rollout-state.js";
import type { StageKind, StageState } from "../../core/rollout/stage-state.js";
import { transitionStage } from "../../core/rollout/transition-stage.js";
import { rolloutStages } from "../../db/schema/index.js";
import { actorGroups, mayActOn, notAnApprover } from "./actor-rights.js";
import { askApprovers } from "./open-stage.js";
import type { Actor, Origin, Outcome, RolloutDeps } from "./rollout-deps.js";
import { inRolloutTx, type RolloutStep } from "./rollout-tx.js";
import { scheduleDispatch } from "./schedule-dispatch.js";
import { recordVote, votesOf } from "./stage-votes.js";

/**
 * `/patch rollback <rollout>` and the card's Roll back button: adds a rollback stage for the
 * furthest stage that was deployed, which dispatches the image's rollback workflow with the digest
 * that ran before. The person asking counts as its first approval (one is enough by default);
 * forward stages still waiting are cancelled.
 */
export async function requestRollback(
  deps: RolloutDeps,
  input: { rolloutId: number; actor: Actor; origin: Origin; reason: string | null },
): Promise<Outcome> {
  const groups = await actorGroups(deps, input.rolloutId, input.actor.id);
  return inRolloutTx(deps, input.rolloutId, (step) => rollBack(step, { ...input, groups }));
}

/**
 * The rollback itself, inside a decision already under way: a person's request (their rights are
 * checked), or patchpilot's own after a failed health gate whose policy says `autoRollback`
 * (`groups: null`: the configuration is the permission).
 */
export async function rollBack(
  step: RolloutStep,
  input: { actor: Actor; origin: Origin; reason: string | null; groups: string[] | null },
): Promise<Outcome> {
  const groups = input.groups ?? [];
  const summaries = step.loaded.stages.map((s) => ({
    ...s,
    kind: s.kind as StageKind,
    state: s.state as StageState,
  }));
  const denied = (message: string): Outcome => {
    step.audit(input.actor, "rollout.rollback", "denied", input.origin, { payload: { message } });
    return { ok: false, message };
  };
  if (step.loaded.rollout.state === "rolling_back" || step.loaded.rollout.state === "rolled_back")
    return {
      ok: false,
      message: `Rollout #${step.loaded.rollout.id} is already ${step.loaded.rollout.state.replace("_", " ")}.`,
    };
  const target = rollbackTarget(summaries);
  if (!target)
    return denied(
      "Nothing of this rollout has been deployed yet, so there is nothing to roll back; cancel it instead.",
    );
  if (!step.loaded.rollout.runningDigest)
    return denied(
      "patchpilot does not know which digest ran before this rollout, so it cannot roll back. Deploy the previous digest by hand.",
    );
  const name = `rollback-${target.name}`;
  const policy = step.policyOf({
    ...target,
    name,
    kind: "rollback",
  } as (typeof step.loaded.stages)[number]);
  if (input.groups !== null && !mayActOn(policy, input.actor.id, groups))
    return denied(notAnApprover(policy, "roll it back"));

  for (const stage of step.loaded.stages) {
    if (stage.kind === "rollback") continue;
    // A deployed stage still under its health gate stops being judged: it is being undone. A
    // failed stage stays failed (the card says why), and decideStage refuses to retry it now.
    if (!["awaiting_approval", "approved", "pending", "verifying"].includes(stage.state)) continue;
    const t = transitionStage(
      { state: stage.state as StageState, expiresAt: stage.expiresAt },
      { type: "cancel" },
      step.now,
    );
    if (t.ok) await step.setStage(stage, { state: t.state, scheduledFor: null, blockedReason: null });
  }
  const position = Math.max(...step.loaded.stages.map((s) => s.position)) + 1;
  const inserted = await step.tx
    .insert(rolloutStages)
    .values({
      rolloutId: step.loaded.rollout.id,
      name,
      kind: "rollback",
      position,
      state: "awaiting_approval",
      round: 1,
      candidateDigest: step.loaded.rollout.runningDigest,
      targetDigest: step.loaded.rollout.runningDigest,
      requestedBy: input.actor.id,
      requestedAt: step.now,
      expiresAt: new Date(step.now.getTime() + policy.expiryMs),
      decisionReason: input.reason,
      updatedAt: step.now,
    })
    .onConflictDoNothing()
    .returning();
  const stage = inserted[0];
  if (!stage)
    return {
      ok: false,
      message: `${target.name} of rollout #${step.loaded.rollout.id} was already rolled back once.`,
    };
  step.loaded.stages.push(stage);
  await recordVote(step, stage, input.actor, {
    candidateDigest: stage.candidateDigest,
    groups,
    reason: input.reason,
  });
  await step.setStage(stage, {});
  step.audit(input.actor, "rollout.rollback_requested", "ok", input.origin, {
    stage,
    payload: { undoes: target.name, to: step.loaded.rollout.runningDigest, reason: input.reason },
  });
  const q = quorum(policy, votesOf(step.loaded, stage), stage.candidateDigest);
  if (!q.met) {
    await askApprovers(step, stage);
    return {
      ok: true,
      message: `:rewind: Rollback of ${target.name} requested. Still needed: ${q.missing.join(", ")}.`,
    };
  }
  await step.setStage(stage, { state: "approved" });
  await scheduleDispatch(step, stage, input.actor, input.origin);
  return {
    ok: true,
    message: `:rewind: Rolling back ${target.name} to \`${step.loaded.rollout.runningDigest.slice(0, 19)}…\`: the rollback workflow is being dispatched.`,
  };
}
