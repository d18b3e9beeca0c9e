import { cancelRefusal } from "../../core/rollout/rollout-state.js";
import type { StageKind, StageState } from "../../core/rollout/stage-state.js";
import { transitionStage } from "../../core/rollout/transition-stage.js";
import { actorGroups, mayActOn } from "./actor-rights.js";
import type { Actor, Origin, Outcome, RolloutDeps } from "./rollout-deps.js";
import { inRolloutTx } from "./rollout-tx.js";

/**
 * Stops a rollout that has not reached its last stage: every stage not yet done is cancelled, so
 * a dispatch intent still waiting for a window finds its stage cancelled and does nothing. The
 * person who started it or any of the team's approvers may cancel.
 */
export async function cancelRollout(
  deps: RolloutDeps,
  input: { rolloutId: number; actor: Actor; origin: Origin; reason?: string | null },
): Promise<Outcome> {
  const groups = await actorGroups(deps, input.rolloutId, input.actor.id);
  return inRolloutTx(deps, input.rolloutId, async (step) => {
    const summaries = step.loaded.stages.map((s) => ({
      ...s,
      kind: s.kind as StageKind,
      state: s.state as StageState,
    }));
    const first = step.loaded.stages[0];
    const allowed =
      input.actor.id === step.loaded.rollout.requestedBy ||
      step.loaded.stages.some((s) => mayActOn(step.policyOf(s), input.actor.id, groups));
    const denied = (message: string): Outcome => {
      step.audit(input.actor, "rollout.cancel", "denied", input.origin, { payload: { message } });
      return { ok: false, message };
    };
    if (!allowed || !first)
      return denied("Only the person who started this rollout or the team's approvers can cancel it.");
    const refusal = cancelRefusal(summaries);
    if (refusal) return denied(refusal);
    for (const stage of step.loaded.stages) {
      const t = transitionStage(
        { state: stage.state as StageState, expiresAt: stage.expiresAt },
        { type: "cancel" },
        step.now,
      );
      if (t.ok) await step.setStage(stage, { state: t.state, scheduledFor: null, blockedReason: null });
    }
    step.audit(input.actor, "rollout.cancelled", "ok", input.origin, {
      payload: input.reason ? { reason: input.reason } : {},
    });
    return {
      ok: true,
      message: `:octagonal_sign: Rollout #${input.rolloutId} cancelled. Nothing more will be dispatched.`,
    };
  });
}
