import { type SQL, sql } from "drizzle-orm";
import { SEVERITIES } from "../../core/digest/severity-counts.js";
import type { Severity } from "../../core/scan/normalized-report.js";
import type { SlaCutoffs, SlaThresholds } from "./sla-thresholds.js";

/** `sla_state` values of a finding as the SQL computes them; 0 is "within, or no clock". */
export const SLA_BREACHED = 2;
export const SLA_DUE_SOON = 1;

/**
 * When finding `f` of image `i`'s latest scan was first seen: the lifecycle's first sighting,
 * copied onto the finding at ingest (a scan from before that copy existed counts from the scan).
 */
export const FIRST_SEEN_SQL = sql`coalesce(f.first_seen_at, i.latest_scan_at)`;

type BySeverity = Partial<Record<Severity, SlaCutoffs>>;

/**
 * `sla_state` of finding `f` first seen at `firstSeen`: one timestamp comparison per row against
 * cutoffs computed once (see `slaThresholds`).
 */
export function slaStateSql(t: SlaThresholds, firstSeen: SQL): SQL {
  return sql`CASE WHEN ${firstSeen} < ${slaCutoffSql(t, "breachedBefore")} THEN ${sql.raw(String(SLA_BREACHED))}
    WHEN ${firstSeen} < ${slaCutoffSql(t, "dueSoonBefore")} THEN ${sql.raw(String(SLA_DUE_SOON))} ELSE 0 END`;
}

/** The cutoff that applies to finding `f`; null when it has no SLA clock. */
export function slaCutoffSql(t: SlaThresholds, key: keyof SlaCutoffs): SQL {
  const plain = bySeveritySql(t.plain, key);
  // Without a known-exploited SLA both cases are the same: one CASE per row, not two.
  if (sameCutoffs(t.plain, t.kev)) return plain;
  return sql`CASE WHEN f.known_exploited THEN ${bySeveritySql(t.kev, key)} ELSE ${plain} END`;
}

function bySeveritySql(cutoffs: BySeverity, key: keyof SlaCutoffs): SQL {
  const branches = SEVERITIES.flatMap((s) => {
    const c = cutoffs[s];
    return c === undefined ? [] : [sql`WHEN ${s}::text THEN ${c[key].toISOString()}::timestamptz`];
  });
  if (branches.length === 0) return sql`NULL::timestamptz`;
  return sql`CASE f.severity ${sql.join(branches, sql` `)} END`;
}

function sameCutoffs(a: BySeverity, b: BySeverity): boolean {
  return SEVERITIES.every(
    (s) =>
      a[s]?.breachedBefore.getTime() === b[s]?.breachedBefore.getTime() &&
      a[s]?.dueSoonBefore.getTime() === b[s]?.dueSoonBefore.getTime(),
  );
}
