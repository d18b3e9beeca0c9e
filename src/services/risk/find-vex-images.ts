import { eq, inArray, or } from "drizzle-orm";
import type { Db } from "../../db/client.js";
import { images, scans } from "../../db/schema/index.js";
import type { ImageRow } from "./find-image.js";
import type { Tx } from "./valid-acceptance.js";
import type { VexProductTarget } from "./vex-product-target.js";

/**
 * Looks up every image the products of a VEX document name, in two queries, and answers per
 * product. A digest matches an image whose latest or any earlier scan had that digest.
 */
export async function findVexImages(
  db: Db | Tx,
  targets: readonly VexProductTarget[],
): Promise<(target: VexProductTarget) => ImageRow[]> {
  const repositories = [...new Set(targets.flatMap((t) => (t.kind === "repository" ? t.repositories : [])))];
  const digests = [...new Set(targets.flatMap((t) => (t.kind === "digest" ? [t.digest] : [])))];

  const byRepository = new Map<string, ImageRow>();
  if (repositories.length > 0) {
    for (const row of await db.select().from(images).where(inArray(images.repository, repositories))) {
      byRepository.set(row.repository, row);
    }
  }
  const byDigest = new Map<string, Map<string, ImageRow>>();
  if (digests.length > 0) {
    const rows = await db
      .selectDistinct({ image: images, digest: scans.digest })
      .from(images)
      .innerJoin(scans, eq(scans.imageId, images.id))
      .where(or(inArray(scans.digest, digests), inArray(images.latestDigest, digests)));
    for (const { image, digest } of rows) {
      for (const d of [digest, image.latestDigest]) {
        if (d === null || !digests.includes(d)) continue;
        const found = byDigest.get(d) ?? new Map<string, ImageRow>();
        found.set(image.id, image);
        byDigest.set(d, found);
      }
    }
  }
  return (target) => {
    if (target.kind === "repository") return target.repositories.flatMap((r) => byRepository.get(r) ?? []);
    if (target.kind === "digest") return [...(byDigest.get(target.digest)?.values() ?? [])];
    return [];
  };
}
