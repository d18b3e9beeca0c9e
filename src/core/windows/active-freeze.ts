import type { Freeze } from "./freeze.js";

/**
 * The freeze that blocks `environment` at `now`, or null. When several overlap, the one that ends
 * last (then the smallest id), so "frozen until …" names the real end of the block.
 */
export function activeFreeze(freezes: readonly Freeze[], environment: string, now: Date): Freeze | null {
  const t = now.getTime();
  let blocking: Freeze | null = null;
  for (const f of freezes) {
    if (!(f.from.getTime() <= t && t < f.to.getTime())) continue;
    if (f.environments !== "all" && !f.environments.includes(environment)) continue;
    if (
      blocking === null ||
      f.to.getTime() > blocking.to.getTime() ||
      (f.to.getTime() === blocking.to.getTime() && f.id < blocking.id)
    ) {
      blocking = f;
    }
  }
  return blocking;
}
