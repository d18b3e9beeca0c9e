import { SEVERITIES, type SeverityCounts, severityCounts } from "./severity-counts.js";

/**
 * Change per severity since the previous digest (positive: more open findings now), or null when
 * there was no previous digest to compare with, so a first digest shows no made-up "▲4".
 */
export function severityDelta(
  current: SeverityCounts,
  previous: SeverityCounts | null,
): SeverityCounts | null {
  if (previous === null) return null;
  const delta = severityCounts();
  for (const s of SEVERITIES) delta[s] = current[s] - previous[s];
  return delta;
}
