import { sql } from "drizzle-orm";
import { z } from "zod";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { imagePostureRows } from "./image-posture-rows.js";
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
