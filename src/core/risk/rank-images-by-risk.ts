import { compareImageRisk } from "./compare-image-risk.js";
import type { ImageRiskSummary } from "./image-risk-summary.js";

/** A new array, riskiest image first (see `compareImageRisk`); the input is left as it was. */
export function rankImagesByRisk<T extends ImageRiskSummary>(images: readonly T[]): T[] {
  return [...images].sort(compareImageRisk);
}
