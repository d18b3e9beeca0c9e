import { sql } from "drizzle-orm";
import { z } from "zod";
import { type SeverityCounts, severityCounts } from "../../core/digest/severity-counts.js";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { acceptedIdsSql, isSuppressedSql } from "./accepted-ids-sql.js";
import { epochMs } from "./epoch-ms.js";
import { POSTURE_COUNT_COLUMNS, POSTURE_COUNT_NAMES, toPostureCounts } from "./image-posture-rows.js";
import { toImageRiskPosture } from "./image-risk-posture.js";
import { FIRST_SEEN_SQL, SLA_DUE_SOON, slaCutoffSql, slaStateSql } from "./sla-state-sql.js";
import { slaThresholds } from "./sla-thresholds.js";
import { type TeamPostureSummary, teamTotals } from "./team-totals.js";
import { toUrgentFinding, type UrgentFinding } from "./urgent-findings.js";

/** What a team's digest reads from its open findings, all from one walk over them. */
export type TeamDigestPosture = {
  /** As `teamPosture` gives it. */
  posture: TeamPostureSummary;
  /** As `urgentFindings` of the team gives it (most urgent first, at most `limit`). */
  urgent: UrgentFinding[];
  /**
   * Open-scan findings (suppressed ones too) whose lifecycle began after `since`, distinct by
   * (vulnerability, package) across the team's images, by severity.
   */
  newSinceLast: SeverityCounts;
};

export type TeamDigestPostureQuery = {
  teams: readonly { teamId: string; since: Date }[];
  now: Date;
  sla: SlaPolicy;
  /** Urgent findings kept per team. */
  limit: number;
  /**
   * The teams are split into this many groups, each walked on its own connection at the same
   * time (a digest run of the whole fleet uses both cores of a small database host). Default 2.
   */
  parallel?: number;
};

const severity = z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]);
const count = z.number().int();
// Images and urgent findings come as JSON arrays (not objects): a tenth of the text to parse.
const imageSchema = z.tuple(
  [
    z.string(),
    z.string().nullable(),
    z.string(),
    z.string().nullable(),
    z.string().nullable(),
    z.number().nullable(),
  ],
  count,
);
const urgentSchema = z.tuple([
  z.string(),
  z.string().nullable(),
  z.string(),
  z.string(),
  z.string().nullable(),
  z.string(),
  severity,
  z.boolean(),
  z.string(),
  z.array(z.string()),
  z.number(),
]);
const teamRowSchema = z.object({
  team_id: z.string(),
  name: z.string(),
  images: z.array(z.unknown()).nullable(),
  urgent: z.array(z.unknown()).nullable(),
  new_since: z.array(z.object({ severity, n: count })).nullable(),
});

/**
 * Per team (keyed by id; unknown teams are left out): its posture, its urgent findings and what
 * is new since `since`, from one pass over its images' open findings instead of three. The same
 * definitions as `teamsPosture`, `urgentFindingsByTeam` and "new since last digest" (see README).
 *
 * Per image, one aggregate counts the findings and gathers the urgent ones (id, due key, first
 * seen, severity rank) and the new ones. Per team, a bounded sort finds the `limit`-th urgent
 * finding on (due, severity); only those due no later (ties included) are read again for titles,
 * packages and fixed versions and put in the exact order of `urgentFindings`.
 */
export async function teamDigestPostures(
  db: Db,
  query: TeamDigestPostureQuery,
): Promise<Map<string, TeamDigestPosture>> {
  const out = new Map<string, TeamDigestPosture>();
  const teams = [...new Map(query.teams.map((t) => [t.teamId, t])).values()];
  if (teams.length === 0) return out;
  const parallel = Math.max(1, Math.min(query.parallel ?? 2, teams.length));
  const groups = Array.from({ length: parallel }, (_, g) => teams.filter((_, i) => i % parallel === g));
  const results = await Promise.all(groups.map((group) => digestPass(db, { ...query, teams: group })));
  for (const result of results) for (const [teamId, value] of result) out.set(teamId, value);
  return out;
}

async function digestPass(db: Db, query: TeamDigestPostureQuery): Promise<Map<string, TeamDigestPosture>> {
  const { teams, now, sla, limit } = query;
  const teamIds = teams.map((t) => t.teamId);
  const thresholds = slaThresholds(sla, now);
  const firstSeen = FIRST_SEEN_SQL;
  const urgent = sql`NOT f.s AND f.sla_state >= ${SLA_DUE_SOON}`;
  const severityRank = (s: ReturnType<typeof sql>) =>
    sql`array_position(ARRAY['critical','high','medium','low','negligible','unknown'], ${s})`;
  const statement = sql`
    WITH img AS MATERIALIZED (
      SELECT i.id, i.config_id, i.repository, i.team_id, i.base_image, i.latest_digest, i.latest_scan_id,
        i.latest_scan_at, a.ids
      FROM images i
      LEFT JOIN (${acceptedIdsSql({ kind: "teams", teamIds }, now)}) a ON a.image_id = i.id
      WHERE i.latest_scan_id IS NOT NULL AND i.team_id = ANY (${sql.param(teamIds)}::text[])
    )
    SELECT t.team_id, tm.name, x.*
    FROM unnest(${sql.param(teamIds)}::text[], ${sql.param(teams.map((t) => t.since.toISOString()))}::timestamptz[])
      AS t(team_id, since)
    JOIN teams tm ON tm.id = t.team_id
    CROSS JOIN LATERAL (
      WITH per_image AS MATERIALIZED (
        SELECT i.id AS image_id, i.config_id, i.repository, i.team_id, i.base_image, i.latest_digest,
          ${epochMs(sql`i.latest_scan_at`)} AS latest_scan_at, c.*
        FROM img i
        CROSS JOIN LATERAL (
          SELECT ${POSTURE_COUNT_COLUMNS},
            array_agg(f.id) FILTER (WHERE ${urgent}) AS u_id,
            array_agg(f.first_seen - ${slaCutoffSql(thresholds, "breachedBefore")}) FILTER (WHERE ${urgent}) AS u_due,
            array_agg(f.first_seen) FILTER (WHERE ${urgent}) AS u_first_seen,
            array_agg(${severityRank(sql`f.severity`)}) FILTER (WHERE ${urgent}) AS u_rank,
            array_agg(f.severity) FILTER (WHERE f.is_new) AS n_severity,
            array_agg(f.vulnerability_id) FILTER (WHERE f.is_new) AS n_vulnerability,
            array_agg(f.package_name) FILTER (WHERE f.is_new) AS n_package
          FROM (
            SELECT f.id, f.severity, f.fix_state, f.known_exploited, f.vulnerability_id, f.package_name,
              ${isSuppressedSql(sql`i.ids`)} AS s, ${firstSeen} AS first_seen,
              ${slaStateSql(thresholds, firstSeen)} AS sla_state, f.first_seen_at > t.since AS is_new
            FROM findings f
            WHERE f.scan_id = i.latest_scan_id
            OFFSET 0
          ) f
        ) c
        WHERE i.team_id = t.team_id
      )
      SELECT
        (SELECT json_agg(json_build_array(p.image_id, p.config_id, p.repository, p.base_image, p.latest_digest,
            p.latest_scan_at, ${sql.raw(POSTURE_COUNT_NAMES.map((n) => `p.${n}`).join(", "))}))
          FROM per_image p) AS images,
        (SELECT json_agg(json_build_array(u.image_id, u.config_id, u.repository, u.vulnerability_id, u.title,
            u.package_name, u.severity, u.known_exploited, u.fix_state, u.fixed_versions, u.first_seen_at)
            ORDER BY u.rank) FROM (
          SELECT c.image_id, c.config_id, c.repository, f.vulnerability_id, f.title, f.package_name, f.severity,
            f.known_exploited, f.fix_state, f.fixed_versions, ${epochMs(sql`c.first_seen`)} AS first_seen_at,
            row_number() OVER (ORDER BY c.due, c.severity_rank,
              f.vulnerability_id COLLATE "C", f.package_name COLLATE "C", c.image_id) AS rank
          FROM (
            SELECT p.image_id, p.config_id, p.repository, unnest(p.u_id) AS id, unnest(p.u_due) AS due,
              unnest(p.u_first_seen) AS first_seen, unnest(p.u_rank) AS severity_rank
            FROM per_image p
          ) c
          JOIN findings f ON f.id = c.id
          WHERE c.due <= coalesce((
            SELECT b.due FROM (
              SELECT unnest(p.u_due) AS due, unnest(p.u_rank) AS severity_rank
              FROM per_image p
              ORDER BY 1, 2 LIMIT 1 OFFSET ${limit - 1}::int
            ) b
          ), c.due)
        ) u WHERE u.rank <= ${limit}::int) AS urgent,
        (SELECT json_agg(counted) FROM (
          SELECT n.severity, count(*)::int AS n
          FROM (
            SELECT DISTINCT unnest(p.n_severity) AS severity, unnest(p.n_vulnerability) AS vulnerability_id,
              unnest(p.n_package) AS package_name
            FROM per_image p
          ) n
          GROUP BY n.severity
        ) counted) AS new_since
    ) x`;
  // JIT off, as for the fleet pass: compiling this plan costs more than it saves. Memoize off: it
  // would cache the few findings read again by id, each read once.
  const result = await db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL jit = off`);
    await tx.execute(sql`SET LOCAL enable_memoize = off`);
    return tx.execute(statement);
  });
  const out = new Map<string, TeamDigestPosture>();
  for (const raw of result.rows) {
    const row = teamRowSchema.parse(raw);
    const images = (row.images ?? []).map((value) => {
      const [imageId, configId, repository, baseImage, latestDigest, lastScanMs, ...counts] =
        imageSchema.parse(value);
      const named = Object.fromEntries(POSTURE_COUNT_NAMES.map((n, i) => [n, counts[i] ?? 0]));
      return toImageRiskPosture({
        imageId,
        name: configId ?? repository,
        configId,
        repository,
        teamId: row.team_id,
        baseImage,
        latestDigest,
        lastScanAt: lastScanMs === null ? null : new Date(lastScanMs),
        counts: toPostureCounts(named as Record<(typeof POSTURE_COUNT_NAMES)[number], number>),
      });
    });
    const newSinceLast = severityCounts();
    for (const n of row.new_since ?? []) newSinceLast[n.severity] = n.n;
    out.set(row.team_id, {
      posture: teamTotals({ id: row.team_id, name: row.name }, images, sla.dueSoonDays),
      urgent: (row.urgent ?? []).map((value) => {
        const u = urgentSchema.parse(value);
        const [image_id, config_id, repository, vulnerability_id, title, package_name, sev, known_exploited] =
          u;
        const [, , , , , , , , fix_state, fixed_versions, firstSeenMs] = u;
        return toUrgentFinding(
          {
            image_id,
            config_id,
            repository,
            vulnerability_id,
            title,
            package_name,
            severity: sev,
            known_exploited,
            fix_state,
            fixed_versions,
            first_seen_at: new Date(firstSeenMs),
          },
          sla,
          now,
        );
      }),
      newSinceLast,
    });
  }
  return out;
}
