import { sql } from "drizzle-orm";
import { z } from "zod";
import { rankImagesByRisk } from "../../core/risk/rank-images-by-risk.js";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { imagePostureRows } from "./image-posture-rows.js";
import { type ImageRiskPosture, toImageRiskPosture } from "./image-risk-posture.js";
import { type TeamPostureSummary, teamTotals } from "./team-totals.js";

export type FleetPosture = {
  /** Every team, by id, including teams with nothing scanned yet (all zeros). */
  teams: TeamPostureSummary[];
  /** Scanned images no team owns, riskiest first: nobody gets their alerts until one does. */
  unowned: ImageRiskPosture[];
};

const teamsSchema = z.array(z.object({ id: z.string(), name: z.string() }));

/**
 * Every team's posture, and the unowned images, from one pass of the posture aggregate over the
 * whole fleet: what building all the weekly digests at once reads.
 */
export async function fleetPosture(
  db: Db,
  { now, sla }: { now: Date; sla: SlaPolicy },
): Promise<FleetPosture> {
  const [teamResult, rows] = await Promise.all([
    db.execute(sql`SELECT id, name FROM teams ORDER BY id COLLATE "C"`),
    imagePostureRows(db, { scope: { kind: "fleet" }, now, sla }),
  ]);
  const byTeam = new Map<string, ImageRiskPosture[]>();
  const unowned: ImageRiskPosture[] = [];
  for (const row of rows) {
    const image = toImageRiskPosture(row);
    if (row.teamId === null) {
      unowned.push(image);
      continue;
    }
    const list = byTeam.get(row.teamId) ?? [];
    list.push(image);
    byTeam.set(row.teamId, list);
  }
  return {
    teams: teamsSchema
      .parse(teamResult.rows)
      .map((team) => teamTotals(team, byTeam.get(team.id) ?? [], sla.dueSoonDays)),
    unowned: rankImagesByRisk(unowned),
  };
}
