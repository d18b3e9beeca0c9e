import { eq } from "drizzle-orm";
import { z } from "zod";
import { configImage, configTeam } from "../../config/config-lookup.js";
import { severityCounts } from "../../core/digest/severity-counts.js";
import { imageBaseStatus, images } from "../../db/schema/index.js";
import { renderBaseImageDrift } from "../../render/render-base-image-drift.js";
import { type RolloutDeps, SYSTEM_ACTOR } from "../rollouts/rollout-deps.js";
import { startRollout } from "../rollouts/start-rollout.js";
import type { SlackPost } from "../upsert-slack-message.js";
import { bumpReason } from "./check-base-images.js";

export const driftPayload = z.object({ imageId: z.uuid(), digest: z.string().min(1) });
export type DriftPayload = z.infer<typeof driftPayload>;

/**
 * What a recorded base-image move leads to, as the image's `onBaseImageDrift` says: a rollout
 * started by patchpilot with the bump as its reason (its card is the team's notice), or a message
 * in the team's channel. When a rollout cannot start (one is already open, no workflows), the team
 * is told that instead. A move superseded by a newer one before delivery does nothing.
 */
export async function actOnDrift(
  deps: RolloutDeps & { post: (message: SlackPost) => Promise<{ ts: string }> },
  payload: DriftPayload,
): Promise<Record<string, unknown>> {
  const [row] = await deps.db
    .select({ status: imageBaseStatus, image: images })
    .from(imageBaseStatus)
    .innerJoin(images, eq(images.id, imageBaseStatus.imageId))
    .where(eq(imageBaseStatus.imageId, payload.imageId));
  if (!row || row.status.currentDigest !== payload.digest || row.status.state !== "behind")
    return { skipped: "the base image moved again or the image was rebuilt meanwhile" };
  const image = configImage(deps.config, row.image.configId);
  const team = configTeam(deps.config, image?.team);
  if (!image) return { skipped: "the image is no longer configured" };
  let rolloutNote: string | null = null;
  if (image.onBaseImageDrift === "rollout") {
    const started = await startRollout(deps, {
      image: image.id,
      actor: { ...SYSTEM_ACTOR, name: "freshness" },
      origin: { source: "system", job: "check-base-images" },
      reason: bumpReason(row.status.baseRef, row.status.builtOnDigest, payload.digest),
      trigger: "base-image",
    });
    if (started.ok) return { rolloutId: started.rolloutId ?? null };
    rolloutNote = started.message;
  }
  if (!team?.channel) return { skipped: "the image's team has no channel" };
  const message = renderBaseImageDrift({
    image: { id: image.id, repository: row.image.repository, imageId: row.image.id },
    baseRef: row.status.baseRef,
    from: row.status.builtOnDigest,
    to: payload.digest,
    movedAt: row.status.movedAt,
    base: row.status.baseCounts ?? severityCounts(),
    app: row.status.appFindings,
    unattributed: row.status.unattributed,
    fixes: row.status.bumpFixes,
    rolloutNote,
  });
  const posted = await deps.post({
    key: `base-drift:${payload.imageId}:${payload.digest}`,
    channel: team.channel,
    text: message.text,
    blocks: message.blocks,
  });
  return { ts: posted.ts };
}
