import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { acceptedIdsSql, isSuppressedSql } from "./accepted-ids-sql.js";
import { epochMs, msDate } from "./epoch-ms.js";
import { type ImageScope, imageScopeSql } from "./image-scope.js";
import type { PostureCounts } from "./posture-counts.js";
import { FIRST_SEEN_SQL, SLA_BREACHED, SLA_DUE_SOON, slaStateSql } from "./sla-state-sql.js";
import { slaThresholds } from "./sla-thresholds.js";

/** One scanned image with its posture counts. */
export type ImagePostureRow = {
  imageId: string;
  /** The config id, or the repository for an image no config names. */
  name: string;
  configId: string | null;
  repository: string;
  teamId: string | null;
  baseImage: string | null;
  latestDigest: string | null;
  lastScanAt: Date | null;
  counts: PostureCounts;
};

export type PostureQuery = { scope: ImageScope; now: Date; sla: SlaPolicy };

/**
 * The posture counts as aggregate columns over per-finding rows with `severity`, `fix_state`,
 * `known_exploited`, `s` (suppressed) and `sla_state`; `toPostureCounts` reads them back.
 */
export const POSTURE_COUNT_COLUMNS: SQL = sql.raw(`
        count(*) FILTER (WHERE NOT s AND severity = 'critical')::int AS critical,
        count(*) FILTER (WHERE NOT s AND severity = 'high')::int AS high,
        count(*) FILTER (WHERE NOT s AND severity = 'medium')::int AS medium,
        count(*) FILTER (WHERE NOT s AND severity = 'low')::int AS low,
        count(*) FILTER (WHERE NOT s AND severity = 'negligible')::int AS negligible,
        count(*) FILTER (WHERE NOT s AND severity = 'unknown')::int AS unknown,
        count(*) FILTER (WHERE NOT s AND fix_state = 'fixed')::int AS fixable,
        count(*) FILTER (WHERE NOT s AND known_exploited)::int AS known_exploited,
        count(*) FILTER (WHERE NOT s AND sla_state = ${SLA_BREACHED})::int AS breached,
        count(*) FILTER (WHERE NOT s AND sla_state = ${SLA_BREACHED} AND severity = 'critical')::int AS breached_critical,
        count(*) FILTER (WHERE NOT s AND sla_state = ${SLA_BREACHED} AND severity = 'high')::int AS breached_high,
        count(*) FILTER (WHERE NOT s AND sla_state = ${SLA_DUE_SOON})::int AS due_soon,
        count(*) FILTER (WHERE s)::int AS accepted`);

/** The columns of `POSTURE_COUNT_COLUMNS`, in order. */
export const POSTURE_COUNT_NAMES = [
  "critical",
  "high",
  "medium",
  "low",
  "negligible",
  "unknown",
  "fixable",
  "known_exploited",
  "breached",
  "breached_critical",
  "breached_high",
  "due_soon",
  "accepted",
] as const;

type CountRow = Record<(typeof POSTURE_COUNT_NAMES)[number], number>;

/** `PostureCounts` from the columns of `POSTURE_COUNT_COLUMNS`. */
export function toPostureCounts(r: CountRow): PostureCounts {
  return {
    open: {
      critical: r.critical,
      high: r.high,
      medium: r.medium,
      low: r.low,
      negligible: r.negligible,
      unknown: r.unknown,
    },
    fixable: r.fixable,
    knownExploited: r.known_exploited,
    breached: r.breached,
    breachedCritical: r.breached_critical,
    breachedHigh: r.breached_high,
    dueSoon: r.due_soon,
    acceptedCount: r.accepted,
  };
}

/**
 * The one aggregate behind every posture answer: per scanned image in scope, open findings of its
 * latest scan by severity, fixable, known exploited, SLA breached / due soon, and accepted.
 *
 * Findings are reached per image through `images.latest_scan_id` (LATERAL), so the cost follows
 * the open findings, not the history of scans and fixed lifecycle rows that piles up behind them.
 * `OFFSET 0` keeps the inner query from being flattened into the aggregate: flattened, each
 * FILTER would re-evaluate the suppression and SLA expressions, 13 times per finding.
 */
export function imagePostureRowsSql({ scope, now, sla }: PostureQuery): SQL {
  const firstSeen = FIRST_SEEN_SQL;
  return sql`
    WITH accepted_ids AS (${acceptedIdsSql(scope, now)})
    SELECT i.id AS image_id, i.config_id, i.repository, i.team_id, i.base_image, i.latest_digest,
      ${epochMs(sql`i.latest_scan_at`)} AS latest_scan_at, c.*
    FROM images i
    LEFT JOIN accepted_ids a ON a.image_id = i.id
    CROSS JOIN LATERAL (
      SELECT ${POSTURE_COUNT_COLUMNS}
      FROM (
        SELECT f.severity, f.fix_state, f.known_exploited, ${isSuppressedSql(sql`a.ids`)} AS s,
          ${slaStateSql(slaThresholds(sla, now), firstSeen)} AS sla_state
        FROM findings f
        WHERE f.scan_id = i.latest_scan_id
        OFFSET 0
      ) per_finding
    ) c
    WHERE i.latest_scan_id IS NOT NULL AND ${imageScopeSql(scope)}`;
}

const count = z.number().int();
const rowSchema = z.object({
  image_id: z.string(),
  config_id: z.string().nullable(),
  repository: z.string(),
  team_id: z.string().nullable(),
  base_image: z.string().nullable(),
  latest_digest: z.string().nullable(),
  latest_scan_at: msDate.nullable(),
  critical: count,
  high: count,
  medium: count,
  low: count,
  negligible: count,
  unknown: count,
  fixable: count,
  known_exploited: count,
  breached: count,
  breached_critical: count,
  breached_high: count,
  due_soon: count,
  accepted: count,
});

/**
 * Posture counts of every scanned image in scope, in no particular order. The fleet-wide (or many-team) pass runs
 * with JIT off: its plan is costly enough to trigger JIT compilation (≈0.15 s of CPU a run), which
 * buys nothing here, since the time goes into joins and per-row function calls, not expressions.
 */
export async function imagePostureRows(db: Db, query: PostureQuery): Promise<ImagePostureRow[]> {
  const statement = imagePostureRowsSql(query);
  const result =
    query.scope.kind === "fleet" || query.scope.kind === "teams"
      ? await db.transaction(async (tx) => {
          await tx.execute(sql`SET LOCAL jit = off`);
          return tx.execute(statement);
        })
      : await db.execute(statement);
  return result.rows.map((raw) => {
    const r = rowSchema.parse(raw);
    return {
      imageId: r.image_id,
      name: r.config_id ?? r.repository,
      configId: r.config_id,
      repository: r.repository,
      teamId: r.team_id,
      baseImage: r.base_image,
      latestDigest: r.latest_digest,
      lastScanAt: r.latest_scan_at,
      counts: toPostureCounts(r),
    };
  });
}
