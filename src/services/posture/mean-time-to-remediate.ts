import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Severity } from "../../core/scan/normalized-report.js";
import type { Db } from "../../db/client.js";

export type MeanTimeToRemediate = {
  /** Mean time from first seen to fixed, in ms, per severity; null when none of it was fixed. */
  meanMs: Record<Severity, number | null>;
  /** Fixes counted, per severity. */
  fixed: Record<Severity, number>;
};

const rowSchema = z.object({
  severity: z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]),
  n: z.number().int(),
  total_ms: z.number(),
});

/**
 * Over lifecycle rows whose `fixed_at` falls in [from, to), of the team's images (or all): the
 * mean of fixed_at − first_seen_at per severity, computed as `meanTimeToRemediate` in core/sla
 * does (whole milliseconds, a negative time counts as 0, rounded). The severity is the worst the
 * finding had in the last scan before the fix; a fix whose scans are gone counts as unknown.
 */
export async function meanTimeToRemediate(
  db: Db,
  params: { teamId?: string; from: Date; to: Date },
): Promise<MeanTimeToRemediate> {
  const team = params.teamId === undefined ? sql`TRUE` : sql`i.team_id = ${params.teamId}::text`;
  const result = await db.execute(sql`
    SELECT coalesce(worst.severity, 'unknown') AS severity, count(*)::int AS n,
      sum(greatest(0, floor(extract(epoch FROM l.fixed_at) * 1000)
        - floor(extract(epoch FROM l.first_seen_at) * 1000)))::float8 AS total_ms
    FROM images i
    JOIN finding_lifecycle l ON l.image_id = i.id
    LEFT JOIN LATERAL (
      SELECT f.severity
      FROM scans s JOIN findings f ON f.scan_id = s.id
      WHERE s.image_id = l.image_id AND s.received_at < l.fixed_at
        AND f.vulnerability_id = l.vulnerability_id AND f.package_name = l.package_name
      ORDER BY s.received_at DESC,
        array_position(ARRAY['critical','high','medium','low','negligible','unknown'], f.severity)
      LIMIT 1
    ) worst ON TRUE
    WHERE ${team} AND l.fixed_at >= ${params.from.toISOString()}::timestamptz
      AND l.fixed_at < ${params.to.toISOString()}::timestamptz
    GROUP BY 1`);
  const out: MeanTimeToRemediate = {
    meanMs: { critical: null, high: null, medium: null, low: null, negligible: null, unknown: null },
    fixed: { critical: 0, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0 },
  };
  for (const raw of result.rows) {
    const r = rowSchema.parse(raw);
    out.meanMs[r.severity] = Math.round(r.total_ms / r.n);
    out.fixed[r.severity] = r.n;
  }
  return out;
}
