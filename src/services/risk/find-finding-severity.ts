import { and, eq, or, sql } from "drizzle-orm";
import type { Severity } from "../../core/scan/normalized-report.js";
import type { Db } from "../../db/client.js";
import { findings, images } from "../../db/schema/index.js";

const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low", "negligible", "unknown"];

export type FindingSeverity = {
  severity: Severity;
  /** The id the scanner reports it under: the id asked for, or the finding's own when asked by an alias. */
  vulnerabilityId: string;
};

/**
 * The highest severity of a vulnerability among the latest findings of one image or of all
 * images of a team, matching aliases too (GHSA vs CVE). Null when no latest scan has it.
 */
export async function findFindingSeverity(
  db: Db,
  vulnerabilityId: string,
  scope: { imageId: string } | { teamId: string },
): Promise<FindingSeverity | null> {
  const rows = await db
    .selectDistinct({ vulnerabilityId: findings.vulnerabilityId, severity: findings.severity })
    .from(findings)
    .innerJoin(images, eq(images.latestScanId, findings.scanId))
    .where(
      and(
        "imageId" in scope ? eq(images.id, scope.imageId) : eq(images.teamId, scope.teamId),
        or(eq(findings.vulnerabilityId, vulnerabilityId), sql`${vulnerabilityId} = ANY(${findings.aliases})`),
      ),
    );
  let best: FindingSeverity | null = null;
  for (const row of rows) {
    const severity = SEVERITY_ORDER.find((s) => s === row.severity) ?? "unknown";
    if (best === null || SEVERITY_ORDER.indexOf(severity) < SEVERITY_ORDER.indexOf(best.severity)) {
      best = { severity, vulnerabilityId: row.vulnerabilityId };
    }
  }
  if (best !== null && rows.some((r) => r.vulnerabilityId === vulnerabilityId)) {
    return { severity: best.severity, vulnerabilityId };
  }
  return best;
}
