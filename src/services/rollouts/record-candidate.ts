import type { StageState } from "../../core/rollout/stage-state.js";
import { transitionStage } from "../../core/rollout/transition-stage.js";
import { OPEN_ROLLOUT_STATES } from "../../db/schema/index.js";
import { advance } from "./open-stage.js";
import { type Origin, type RolloutDeps, SYSTEM_ACTOR } from "./rollout-deps.js";
import { inRolloutTx } from "./rollout-tx.js";

/**
 * A scan uploaded with `rollout_id` names the rollout's candidate digest (the build's output).
 * A new candidate resets approvals bound to the old one (digest binding): stages waiting or
 * approved but not dispatched ask again. Re-uploading the same scan changes nothing.
 */
export async function recordCandidate(
  deps: RolloutDeps,
  input: { rolloutId: number; imageId: string; digest: string; origin: Origin },
): Promise<void> {
  await inRolloutTx(deps, input.rolloutId, async (step) => {
    const r = step.loaded.rollout;
    if (r.imageId !== input.imageId || !(OPEN_ROLLOUT_STATES as readonly string[]).includes(r.state)) {
      step.audit(SYSTEM_ACTOR, "rollout.candidate", "refused", input.origin, {
        payload: {
          digest: input.digest,
          why: r.imageId !== input.imageId ? "the scan is of another image" : `the rollout is ${r.state}`,
        },
      });
      return;
    }
    if (r.candidateDigest !== input.digest) {
      const previous = r.candidateDigest;
      step.setRollout({ candidateDigest: input.digest });
      for (const stage of step.loaded.stages) {
        if (stage.kind !== "deploy") continue;
        const t = transitionStage(
          { state: stage.state as StageState, expiresAt: null },
          { type: "candidate_changed" },
          step.now,
        );
        if (!t.ok) continue;
        await step.setStage(stage, {
          state: t.state,
          candidateDigest: input.digest,
          targetDigest: input.digest,
          scheduledFor: null,
          blockedReason: null,
        });
      }
      step.audit(
        SYSTEM_ACTOR,
        previous ? "rollout.candidate_changed" : "rollout.candidate",
        "ok",
        input.origin,
        {
          payload: { from: previous, to: input.digest },
        },
      );
    }
    await advance(step, SYSTEM_ACTOR, input.origin);
  });
}
