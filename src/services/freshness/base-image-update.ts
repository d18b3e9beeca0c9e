import { eq, inArray } from "drizzle-orm";
import type { BaseImageUpdate } from "../../core/digest/image-status.js";
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
