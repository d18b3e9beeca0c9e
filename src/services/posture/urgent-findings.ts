import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Severity } from "../../core/scan/normalized-report.js";
import { slaClock } from "../../core/sla/sla-clock.js";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { acceptedIdsSql, isSuppressedSql } from "./accepted-ids-sql.js";
import { epochMs, msDate } from "./epoch-ms.js";
import type { PostureQuery } from "./image-posture-rows.js";
import { imageScopeSql } from "./image-scope.js";
import { FIRST_SEEN_SQL, SLA_DUE_SOON, slaCutoffSql, slaStateSql } from "./sla-state-sql.js";
import { slaThresholds } from "./sla-thresholds.js";

/** An open finding past or close to its SLA due date. */
export type UrgentFinding = {
  image: { imageId: string; name: string; repository: string };
  vulnerabilityId: string;
  title: string | null;
  packageName: string;
  severity: Severity;
  knownExploited: boolean;
  /** A fixed version exists. */
  fixable: boolean;
  fixedVersions: string[];
  firstSeenAt: Date;
  dueAt: Date;
  state: "breached" | "due_soon";
  /** As `slaClock` counts them: negative once overdue (-2 = at least two days late). */
  daysLeft: number;
};

const severity = z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]);
/** An urgent finding as the queries select it (`toUrgentFinding` turns it into an `UrgentFinding`). */
export const urgentRowSchema = z.object({
  image_id: z.string(),
  config_id: z.string().nullable(),
  repository: z.string(),
  vulnerability_id: z.string(),
  title: z.string().nullable(),
  package_name: z.string(),
  severity,
  known_exploited: z.boolean(),
  fix_state: z.string(),
  fixed_versions: z.array(z.string()),
  first_seen_at: msDate,
});
const rowSchema = urgentRowSchema.extend({ team_id: z.string().nullable() });

/** An urgent row with its SLA state and due date from `slaClock` (which must agree with the SQL). */
export function toUrgentFinding(
  r: z.infer<typeof urgentRowSchema>,
  sla: SlaPolicy,
  now: Date,
): UrgentFinding {
  const clock = slaClock(
    { severity: r.severity, firstSeenAt: r.first_seen_at, knownExploited: r.known_exploited },
    sla,
    now,
  );
  if (clock.dueAt === null || clock.daysLeft === null || clock.state === "within" || clock.state === "none") {
    throw new Error(`SLA state of ${r.vulnerability_id} in ${r.repository} disagrees with slaClock`);
  }
  return {
    image: { imageId: r.image_id, name: r.config_id ?? r.repository, repository: r.repository },
    vulnerabilityId: r.vulnerability_id,
    title: r.title,
    packageName: r.package_name,
    severity: r.severity,
    knownExploited: r.known_exploited,
    fixable: r.fix_state === "fixed",
    fixedVersions: r.fixed_versions,
    firstSeenAt: r.first_seen_at,
    dueAt: clock.dueAt,
    state: clock.state,
    daysLeft: clock.daysLeft,
  };
}

/**
 * Breached and due-soon open findings in scope, most overdue first (then the soonest due), ties
 * by severity, vulnerability id, package and image. States and due dates come from `slaClock`.
 */
export async function urgentFindings(
  db: Db,
  query: PostureQuery & { limit: number },
): Promise<UrgentFinding[]> {
  return (await urgentRows(db, query, false)).map((r) => r.finding);
}

/**
 * `urgentFindings` of several teams from one query: each team's own list, `limit` findings at
 * most per team, keyed by team id (a team with none has no entry).
 */
export async function urgentFindingsByTeam(
  db: Db,
  query: { teamIds: readonly string[]; now: Date; sla: SlaPolicy; limit: number },
): Promise<Map<string, UrgentFinding[]>> {
  const out = new Map<string, UrgentFinding[]>();
  if (query.teamIds.length === 0) return out;
  const { teamIds, ...rest } = query;
  for (const { teamId, finding } of await urgentRows(
    db,
    { ...rest, scope: { kind: "teams", teamIds } },
    true,
  )) {
    if (teamId === null) continue;
    const list = out.get(teamId) ?? [];
    list.push(finding);
    out.set(teamId, list);
  }
  return out;
}

/** The urgent findings; with `perTeam`, the limit applies to each team's images separately. */
async function urgentRows(
  db: Db,
  query: PostureQuery & { limit: number },
  perTeam: boolean,
): Promise<{ teamId: string | null; finding: UrgentFinding }[]> {
  const { scope, now, sla, limit } = query;
  const thresholds = slaThresholds(sla, now);
  const firstSeen = FIRST_SEEN_SQL;
  // first seen minus its breach cutoff is (due - now - 1 ms): ascending is soonest due first.
  const order = sql`${firstSeen} - ${slaCutoffSql(thresholds, "breachedBefore")},
      array_position(ARRAY['critical','high','medium','low','negligible','unknown'], f.severity),
      f.vulnerability_id COLLATE "C", f.package_name COLLATE "C", i.id`;
  const columns = sql`i.id AS image_id, i.team_id, i.config_id, i.repository, f.vulnerability_id, f.title, f.package_name,
      f.severity, f.known_exploited, f.fix_state, f.fixed_versions, ${epochMs(firstSeen)} AS first_seen_at`;
  const from = sql`
    FROM images i
    LEFT JOIN accepted_ids a ON a.image_id = i.id
    JOIN findings f ON f.scan_id = i.latest_scan_id
    WHERE ${imageScopeSql(scope)} AND NOT ${isSuppressedSql(sql`a.ids`)}
      AND ${slaStateSql(thresholds, firstSeen)} >= ${SLA_DUE_SOON}`;
  // Per team: each image's `limit` most urgent first (a bounded top-N sort per image, not a sort
  // of every urgent finding of the fleet), then the team's `limit` most urgent of those.
  const dueKey = sql`${firstSeen} - ${slaCutoffSql(thresholds, "breachedBefore")}`;
  const severityRank = sql`array_position(ARRAY['critical','high','medium','low','negligible','unknown'], f.severity)`;
  const result = await db.execute(
    perTeam
      ? sql`
    WITH accepted_ids AS (${acceptedIdsSql(scope, now)})
    SELECT * FROM (
      SELECT i.id AS image_id, i.team_id, i.config_id, i.repository, u.*,
        row_number() OVER (PARTITION BY i.team_id ORDER BY u.due_key, u.severity_rank,
          u.vulnerability_id COLLATE "C", u.package_name COLLATE "C", i.id) AS rank
      FROM images i
      LEFT JOIN accepted_ids a ON a.image_id = i.id
      CROSS JOIN LATERAL (
        SELECT f.vulnerability_id, f.title, f.package_name, f.severity, f.known_exploited, f.fix_state,
          f.fixed_versions, ${epochMs(firstSeen)} AS first_seen_at, ${dueKey} AS due_key, ${severityRank} AS severity_rank
        FROM findings f
        WHERE f.scan_id = i.latest_scan_id AND NOT ${isSuppressedSql(sql`a.ids`)}
          AND ${slaStateSql(thresholds, firstSeen)} >= ${SLA_DUE_SOON}
        ORDER BY ${order}
        LIMIT ${limit}::int
      ) u
      WHERE ${imageScopeSql(scope)}
    ) ranked WHERE rank <= ${limit}::int ORDER BY team_id, rank`
      : sql`
    WITH accepted_ids AS (${acceptedIdsSql(scope, now)})
    SELECT ${columns}
    ${from}
    ORDER BY ${order}
    LIMIT ${limit}::int`,
  );
  return result.rows.map((raw) => {
    const r = rowSchema.parse(raw);
    return { teamId: r.team_id, finding: toUrgentFinding(r, sla, now) };
  });
}
