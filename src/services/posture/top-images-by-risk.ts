import { rankImagesByRisk } from "../../core/risk/rank-images-by-risk.js";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { imagePostureRows } from "./image-posture-rows.js";
import { type ImageRiskPosture, toImageRiskPosture } from "./image-risk-posture.js";

/** The `limit` riskiest scanned images of a team, or of the whole fleet (unowned included). */
export async function topImagesByRisk(
  db: Db,
  params: { teamId?: string; now: Date; sla: SlaPolicy; limit: number },
): Promise<ImageRiskPosture[]> {
  const { teamId, now, sla, limit } = params;
  const scope = teamId === undefined ? ({ kind: "fleet" } as const) : ({ kind: "team", teamId } as const);
  const rows = await imagePostureRows(db, { scope, now, sla });
  return rankImagesByRisk(rows.map(toImageRiskPosture)).slice(0, Math.max(0, limit));
}
