import { rankImagesByRisk } from "../../core/risk/rank-images-by-risk.js";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { imagePostureRows } from "./image-posture-rows.js";
import { type ImageRiskPosture, toImageRiskPosture } from "./image-risk-posture.js";

/**
 * Scanned images no team owns, riskiest first: the digests' "unowned" list, without the fleet
 * pass that `fleetPosture` makes to get it along with every team's numbers.
 */
export async function unownedPosture(
  db: Db,
  { now, sla }: { now: Date; sla: SlaPolicy },
): Promise<ImageRiskPosture[]> {
  const rows = await imagePostureRows(db, { scope: { kind: "unowned" }, now, sla });
  return rankImagesByRisk(rows.map(toImageRiskPosture));
}
