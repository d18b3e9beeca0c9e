import type { ImageRiskRow } from "./image-risk-row.js";
import type { TeamPosture } from "./team-posture.js";

/** The answer to `/patch status <team>`: its posture and every image it owns. */
export type TeamStatus = TeamPosture & {
  /** In any order; the renderer ranks them with `rankImagesByRisk`. */
  images: ImageRiskRow[];
};
