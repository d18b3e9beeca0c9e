import type { SeverityCounts } from "./severity-counts.js";

/** An image seen in scans that no team in the config owns: nobody gets its alerts until one does. */
export type UnownedImage = {
  repository: string;
  open: SeverityCounts;
  lastScanAt: Date | null;
};
