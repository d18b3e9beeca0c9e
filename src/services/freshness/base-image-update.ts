import { eq, inArray } from "drizzle-orm";
import type { BaseImageMove } from "../../core/digest/base-image-move.js";
import type { BaseImageUpdate } from "../../core/digest/image-status.js";
import { SEVERITIES, severityCounts } from "../../core/digest/severity-counts.js";
import type { Db } from "../../db/client.js";
import { imageBaseStatus } from "../../db/schema/index.js";

type StatusRow = typeof imageBaseStatus.$inferSelect;

/** What status, digests and cards say about an image's base: configured ref plus the last check. */
export function toBaseImageUpdate(configured: string, row: StatusRow | undefined): BaseImageUpdate {
  return {
    current: configured,
    checked: row !== undefined && row.state !== "unknown",
    available: row?.state === "behind" ? row.currentDigest : null,
    availableSince: row?.state === "behind" ? row.movedAt : null,
    fixes: row?.state === "behind" ? (row.bumpFixes ?? null) : null,
    fromBase: row?.baseCounts ?? null,
    builtOnAt: row?.builtOnAt ?? null,
    error: row?.error ?? null,
    noLayers: row?.state === "unknown" && row.error === null && row.currentDigest !== null,
  };
}

/** The freshness status of each image (by row id) that has one. */
export async function baseImageStatuses(
  db: Db,
  imageIds: readonly string[],
): Promise<Map<string, StatusRow>> {
  if (imageIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(imageBaseStatus)
    .where(
      imageIds.length === 1
        ? eq(imageBaseStatus.imageId, imageIds[0] ?? "")
        : inArray(imageBaseStatus.imageId, [...imageIds]),
    );
  return new Map(rows.map((r) => [r.imageId, r]));
}

/**
 * The digest's "base images that moved": per team, each base its images are behind on, with the
 * images and what a bump fixes (summed over the images whose new base's scan is known).
 */
export function baseImagesMoved(
  images: ReadonlyArray<{ imageId: string; name: string }>,
  statuses: ReadonlyMap<string, StatusRow>,
): BaseImageMove[] {
  const byBase = new Map<string, BaseImageMove>();
  for (const image of images) {
    const s = statuses.get(image.imageId);
    if (s?.state !== "behind") continue;
    const move = byBase.get(s.baseRef) ?? { baseImage: s.baseRef, images: [] };
    move.images.push(image.name);
    if (s.bumpFixes) {
      const fixes = move.fixes ?? severityCounts();
      for (const sev of SEVERITIES) fixes[sev] += s.bumpFixes[sev] ?? 0;
      move.fixes = fixes;
    }
    byBase.set(s.baseRef, move);
  }
  return [...byBase.values()].sort((a, b) => b.images.length - a.images.length);
}

/** Whole days an image has been behind its base (since the base moved), or null when it is not. */
export function behindDays(s: StatusRow | undefined, now: Date): number | null {
  if (s?.state !== "behind" || s.movedAt === null) return null;
  return Math.max(0, Math.floor((now.getTime() - s.movedAt.getTime()) / 86_400_000));
}
