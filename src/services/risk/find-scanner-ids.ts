import { and, eq, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client.js";
import { findings, images } from "../../db/schema/index.js";
import type { Tx } from "./valid-acceptance.js";

/**
 * For each image, which id its latest scan reports a vulnerability under, keyed by every id and
 * alias of it: a VEX statement about GHSA-… then suppresses the finding the scanner calls CVE-….
 * Read as `ids.get(imageId)?.get(anyId)`.
 */
export async function findScannerIds(
  db: Db | Tx,
  imageIds: readonly string[],
  vulnerabilityIds: readonly string[],
): Promise<Map<string, Map<string, string>>> {
  const result = new Map<string, Map<string, string>>();
  if (imageIds.length === 0 || vulnerabilityIds.length === 0) return result;
  const ids = [...new Set(vulnerabilityIds)];
  const rows = await db
    .selectDistinct({
      imageId: images.id,
      vulnerabilityId: findings.vulnerabilityId,
      aliases: findings.aliases,
    })
    .from(findings)
    .innerJoin(images, eq(images.latestScanId, findings.scanId))
    .where(
      and(
        inArray(images.id, [...imageIds]),
        or(inArray(findings.vulnerabilityId, ids), sql`${findings.aliases} && ${sql.param(ids)}::text[]`),
      ),
    );
  for (const row of rows) {
    const ofImage = result.get(row.imageId) ?? new Map<string, string>();
    result.set(row.imageId, ofImage);
    ofImage.set(row.vulnerabilityId, row.vulnerabilityId);
  }
  // Second pass: an id the scanner reports as its own never gives way to an alias of another.
  for (const row of rows) {
    const ofImage = result.get(row.imageId);
    for (const alias of row.aliases)
      if (ofImage && !ofImage.has(alias)) ofImage.set(alias, row.vulnerabilityId);
  }
  return result;
}
