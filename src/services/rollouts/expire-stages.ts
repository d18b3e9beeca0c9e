import { and, eq, lte } from "drizzle-orm";
import { transitionStage } from "../../core/rollout/transition-stage.js";
import { rolloutStages } from "../../db/schema/index.js";
import { type RolloutDeps, SYSTEM_ACTOR } from "./rollout-deps.js";
import { inRolloutTx } from "./rollout-tx.js";

/**
 * Approval requests past their expiry become `expired` (the card says so and offers to ask again).
 * Run every minute; each stage in its own transaction, re-checked under the rollout's lock.
 */
export async function expireStages(deps: RolloutDeps): Promise<number> {
  const now = deps.now();
  const due = await deps.db
    .select({ id: rolloutStages.id, rolloutId: rolloutStages.rolloutId })
    .from(rolloutStages)
    .where(and(eq(rolloutStages.state, "awaiting_approval"), lte(rolloutStages.expiresAt, now)));
  let expired = 0;
  for (const d of due) {
    expired += await inRolloutTx(deps, d.rolloutId, async (step) => {
      const stage = step.loaded.stages.find((s) => s.id === d.id);
      if (!stage) return 0;
      const t = transitionStage(
        { state: "awaiting_approval", expiresAt: stage.expiresAt },
        { type: "expire" },
        step.now,
      );
      if (stage.state !== "awaiting_approval" || !t.ok) return 0;
      await step.setStage(stage, { state: t.state });
      step.audit(
        SYSTEM_ACTOR,
        "stage.expired",
        "ok",
        { source: "system", job: "expire-approvals" },
        {
          stage,
          payload: { expiresAt: stage.expiresAt?.toISOString() ?? null },
        },
      );
      return 1;
    });
  }
  return expired;
}
