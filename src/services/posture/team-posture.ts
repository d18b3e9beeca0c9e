import { sql } from "drizzle-orm";
import { z } from "zod";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { type ImagePostureRow, imagePostureRows } from "./image-posture-rows.js";
import { toImageRiskPosture } from "./image-risk-posture.js";
import { type TeamPostureSummary, teamTotals } from "./team-totals.js";

const teamSchema = z.object({ id: z.string(), name: z.string() });

/** A team's posture at `now`: totals and its scanned images ranked by risk; null for an unknown team. */
export async function teamPosture(
  db: Db,
  { teamId, now, sla }: { teamId: string; now: Date; sla: SlaPolicy },
): Promise<TeamPostureSummary | null> {
  const [teamResult, rows] = await Promise.all([
    db.execute(sql`SELECT id, name FROM teams WHERE id = ${teamId}::text`),
    imagePostureRows(db, { scope: { kind: "team", teamId }, now, sla }),
  ]);
  const raw = teamResult.rows[0];
  if (raw === undefined) return null;
  return teamTotals(teamSchema.parse(raw), rows.map(toImageRiskPosture), sla.dueSoonDays);
}

/**
 * Several teams' posture from one pass of the aggregate over their images (what building all
 * digests of a subscription reads), keyed by team id; unknown teams are left out.
 */
export async function teamsPosture(
  db: Db,
  { teamIds, now, sla }: { teamIds: readonly string[]; now: Date; sla: SlaPolicy },
): Promise<Map<string, TeamPostureSummary>> {
  const out = new Map<string, TeamPostureSummary>();
  if (teamIds.length === 0) return out;
  const [teamResult, rows] = await Promise.all([
    db.execute(sql`SELECT id, name FROM teams WHERE id = ANY (${sql.param([...teamIds])}::text[])`),
    imagePostureRows(db, { scope: { kind: "teams", teamIds }, now, sla }),
  ]);
  const byTeam = new Map<string, ImagePostureRow[]>();
  for (const row of rows) {
    if (row.teamId === null) continue;
    const list = byTeam.get(row.teamId) ?? [];
    list.push(row);
    byTeam.set(row.teamId, list);
  }
  for (const team of z.array(teamSchema).parse(teamResult.rows)) {
    const images = (byTeam.get(team.id) ?? []).map(toImageRiskPosture);
    out.set(team.id, teamTotals(team, images, sla.dueSoonDays));
  }
  return out;
}
