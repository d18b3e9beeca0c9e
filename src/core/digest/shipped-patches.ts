import type { SeverityCounts } from "./severity-counts.js";

/** Rollouts that reached production this period. */
export type ShippedPatches = {
  count: number;
  fixed: SeverityCounts;
  /** From first seen to fixed, over the critical findings fixed this period; null when none were. */
  meanTimeToRemediateCriticalMs: number | null;
};
