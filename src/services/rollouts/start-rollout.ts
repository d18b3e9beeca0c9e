import { eq } from "drizzle-orm";
import { type ConfigImage, configImage } from "../../config/config-lookup.js";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import { stagesOfImage } from "../../config/stage-policy-from-config.js";
import { closestMatch } from "../../core/closest-match.js";
import { stageKindOf } from "../../core/rollout/stage-state.js";
import { normalizeImageRef } from "../../core/scan/normalize-image-ref.js";
import { findOpenRollout, type Tx } from "../../db/rollout-repository.js";
import { images, rolloutStages, rollouts } from "../../db/schema/index.js";
import { advance } from "./open-stage.js";
import type { Actor, Origin, Outcome, RolloutDeps } from "./rollout-deps.js";
import { inRolloutTx } from "./rollout-tx.js";

export type RolloutTrigger = "manual" | "patch-now" | "auto-critical" | "base-image";

export type StartInput = {
  /** A configured image id (`payments-api`) or its repository (`ghcr.io/acme/payments-api`). */
  image: string;
  actor: Actor;
  origin: Origin;
  reason: string | null;
  trigger: RolloutTrigger;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function findConfiguredImage(config: PatchpilotConfig, ref: string): ConfigImage | null {
  const repository = normalizeImageRef(ref).repository;
  return (
    configImage(config, ref) ??
    config.images.find((i) => normalizeImageRef(i.repository).repository === repository) ??
    null
  );
}

/** What is missing before this image can be rolled out, in words that say where to fix it. */
function setupProblem(config: PatchpilotConfig, image: ConfigImage): string | null {
  if (!image.github)
    return `${image.id} has no GitHub repository configured, so patchpilot cannot build or deploy it. Add images[].github (repo and workflows) for it in patchpilot.yaml.`;
  const stages = stagesOfImage(config, image);
  const missing = [
    ...(stages.some((s) => stageKindOf(s) === "build") && !image.github.workflows.build ? ["build"] : []),
    ...(stages.some((s) => stageKindOf(s) === "deploy") && !image.github.workflows.deploy ? ["deploy"] : []),
  ];
  if (missing.length > 0)
    return `${image.id} has no ${missing.join(" or ")} workflow configured. Set images[].github.workflows.${missing[0]} in patchpilot.yaml (see examples/github-actions/).`;
  return null;
}

/**
 * Starts a rollout of an image from its running digest through its stages, in one transaction
 * with its audit event; the first stage opens at once (the rebuild needs no approval by default
 * and is dispatched). An image has at most one open rollout: a second start says which one runs.
 */
export async function startRollout(
  deps: RolloutDeps,
  input: StartInput,
): Promise<Outcome & { rolloutId?: number }> {
  // "Patch now" buttons carry the image's row id.
  const byRow = UUID.test(input.image)
    ? (await deps.db.select({ configId: images.configId }).from(images).where(eq(images.id, input.image)))[0]
    : undefined;
  if (byRow && !byRow.configId)
    return {
      ok: false,
      message:
        "This image is not in patchpilot.yaml (it is unowned), so it has no build or deploy workflows to run. Add it under images: first.",
    };
  const image = findConfiguredImage(deps.config, byRow?.configId ?? input.image);
  if (!image) {
    const guess = closestMatch(
      input.image,
      deps.config.images.map((i) => i.id),
    );
    return {
      ok: false,
      message: `No configured image "${input.image}".${guess ? ` Did you mean \`${guess}\`?` : ""} \`/patch status\` lists your team's images.`,
    };
  }
  const problem = setupProblem(deps.config, image);
  if (problem) return { ok: false, message: problem };
  const row = (await deps.db.select().from(images).where(eq(images.configId, image.id)))[0];
  if (!row)
    return { ok: false, message: `${image.id} is configured but not synced yet; try again in a minute.` };

  const create = async (tx: Tx): Promise<number | (Outcome & { rolloutId?: number })> => {
    const open = await findOpenRollout(tx, row.id);
    if (open) return alreadyRunning(open.id, image.id);
    const now = deps.now();
    const [rollout] = await tx
      .insert(rollouts)
      .values({
        imageId: row.id,
        teamId: image.team,
        runningDigest: row.latestDigest,
        candidateDigest: null,
        state: "active",
        reason: input.reason,
        trigger: input.trigger,
        requestedBy: input.actor.id,
        requestedByName: input.actor.name,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: rollouts.id });
    if (!rollout) {
      const racing = await findOpenRollout(tx, row.id);
      return alreadyRunning(racing?.id ?? 0, image.id);
    }
    await tx.insert(rolloutStages).values(
      stagesOfImage(deps.config, image).map((name, position) => ({
        rolloutId: rollout.id,
        name,
        kind: stageKindOf(name),
        position,
        state: "pending",
        updatedAt: now,
      })),
    );
    return rollout.id;
  };
  return inRolloutTx(deps, create, async (step) => {
    step.audit(input.actor, "rollout.requested", "ok", input.origin, {
      payload: { trigger: input.trigger, reason: input.reason, from: step.loaded.rollout.runningDigest },
    });
    await advance(step, input.actor, input.origin);
    return {
      ok: true,
      rolloutId: step.loaded.rollout.id,
      message: `:rocket: Rollout #${step.loaded.rollout.id} of ${image.id} started. Follow it on the card in <#${step.team?.channel ?? ""}>.`,
    };
  });
}

function alreadyRunning(id: number, image: string): Outcome & { rolloutId: number } {
  return {
    ok: false,
    rolloutId: id,
    message: `Rollout #${id} of ${image} is already in progress; see its card, or \`/patch audit ${id}\`.`,
  };
}
