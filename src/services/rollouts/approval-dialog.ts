import { eq } from "drizzle-orm";
import { configTeam } from "../../config/config-lookup.js";
import type { StageKind } from "../../core/rollout/stage-state.js";
import type { LoadedRollout } from "../../db/rollout-repository.js";
import { images } from "../../db/schema/index.js";
import { loadCandidateDelta } from "./load-candidate-delta.js";
import type { RolloutDeps } from "./rollout-deps.js";
import { rolloutPolicy } from "./rollout-policy.js";

/**
 * Whether approving this stage of `loaded` (the rollout as the click found it) goes through the
 * confirmation dialog (its policy says `confirm`), and what the dialog shows: the image and the
 * findings the candidate would introduce. Null when it does not, or when the stage waits for
 * nothing (the approval itself then says why).
 */
export async function approvalDialogFor(
  deps: Pick<RolloutDeps, "db" | "config">,
  loaded: LoadedRollout,
  stageName: string,
): Promise<{ image: string; blocking: string[] } | null> {
  const stage = loaded.stages.find((s) => s.name === stageName);
  if (stage?.state !== "awaiting_approval") return null;
  const team = configTeam(deps.config, loaded.rollout.teamId);
  if (!rolloutPolicy(deps.config, team, stage.name, stage.kind as StageKind).confirm) return null;
  const scan = await loadCandidateDelta(
    deps.db,
    loaded.rollout.imageId,
    loaded.rollout.runningDigest,
    loaded.rollout.candidateDigest,
  );
  const row = (await deps.db.select().from(images).where(eq(images.id, loaded.rollout.imageId)))[0];
  return {
    image: row?.configId ?? row?.repository ?? `rollout #${loaded.rollout.id}`,
    blocking: scan.delta?.blocking ?? [],
  };
}
