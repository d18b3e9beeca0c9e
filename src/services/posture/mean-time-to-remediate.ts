import { type SQL, sql } from "drizzle-orm";
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
  team_id: z.string().nullable(),
  severity: z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]),
  n: z.number().int(),
  total_ms: z.number(),
});

/**
 * Over lifecycle rows whose `fixed_at` falls in [from, to), of the team's images (or all): the
 * mean of fixed_at − first_seen_at per severity, computed as `meanTimeToRemediate` in core/sla
 * does (whole milliseconds, a negative time counts as 0, rounded). The severity is the worst the
 * finding had in the last scan that showed it (kept on the lifecycle row at ingest); a fix
 * recorded before that was kept, whose scans are gone, counts as unknown.
 */
export async function meanTimeToRemediate(
  db: Db,
  params: { teamId?: string; from: Date; to: Date },
): Promise<MeanTimeToRemediate> {
  const { teamId, from, to } = params;
  if (teamId === undefined) {
    return (await remediated(db, sql`${from.toISOString()}::timestamptz`, from, to)).get(null) ?? empty();
  }
  return (await meanTimeToRemediateByTeam(db, { teams: [{ teamId, from }], to })).get(teamId) ?? empty();
}

/**
 * `meanTimeToRemediate` of several teams from one query, each over its own [from, to) (from: the
 * team's last digest), keyed by team id; every team asked for has an entry.
 */
export async function meanTimeToRemediateByTeam(
  db: Db,
  params: { teams: readonly { teamId: string; from: Date }[]; to: Date },
): Promise<Map<string, MeanTimeToRemediate>> {
  const out = new Map<string, MeanTimeToRemediate>(params.teams.map((t) => [t.teamId, empty()]));
  if (params.teams.length === 0) return out;
  const ids = sql.param(params.teams.map((t) => t.teamId));
  const froms = sql.param(params.teams.map((t) => t.from.toISOString()));
  // One backend, no parallel workers: the digests run this beside their walk over the findings,
  // which already keeps a small database host's cores busy.
  const rows = await db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL max_parallel_workers_per_gather = 0`);
    return remediated(
      tx,
      sql`t.since`,
      new Date(Math.min(...params.teams.map((t) => t.from.getTime()))),
      params.to,
      sql`JOIN unnest(${ids}::text[], ${froms}::timestamptz[]) AS t(team_id, since) ON t.team_id = i.team_id`,
    );
  });
  for (const [teamId, m] of rows) if (teamId !== null) out.set(teamId, m);
  return out;
}

function empty(): MeanTimeToRemediate {
  return {
    meanMs: { critical: null, high: null, medium: null, low: null, negligible: null, unknown: null },
    fixed: { critical: 0, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0 },
  };
}

/**
 * Per team of the images (null when `teams` joins none), lifecycle rows fixed in [from, to);
 * `earliest` is the earliest `from` can be, so the fixes are read from the period's index range.
 */
async function remediated(
  db: Pick<Db, "execute">,
  from: SQL,
  earliest: Date,
  to: Date,
  teams: SQL = sql``,
): Promise<Map<string | null, MeanTimeToRemediate>> {
  const team = teams.queryChunks.length === 0 ? sql`NULL::text` : sql`i.team_id`;
  const result = await db.execute(sql`
    SELECT ${team} AS team_id, coalesce(l.severity, 'unknown') AS severity, count(*)::int AS n,
      sum(greatest(0, floor(extract(epoch FROM l.fixed_at) * 1000)
        - floor(extract(epoch FROM l.first_seen_at) * 1000)))::float8 AS total_ms
    FROM images i
    ${teams}
    JOIN finding_lifecycle l ON l.image_id = i.id
    WHERE l.fixed_at >= ${from} AND l.fixed_at >= ${earliest.toISOString()}::timestamptz
      AND l.fixed_at < ${to.toISOString()}::timestamptz
    GROUP BY 1, 2`);
  const out = new Map<string | null, MeanTimeToRemediate>();
  for (const raw of result.rows) {
    const r = rowSchema.parse(raw);
    const m = out.get(r.team_id) ?? empty();
    m.meanMs[r.severity] = Math.round(r.total_ms / r.n);
    m.fixed[r.severity] = r.n;
    out.set(r.team_id, m);
  }
  return out;
}
