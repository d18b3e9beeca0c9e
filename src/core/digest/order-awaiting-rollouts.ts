import type { AwaitingRollout } from "./awaiting-rollout.js";

const NEVER = Number.POSITIVE_INFINITY;

/**
 * The approval to look at first: the one that lapses soonest, then the one fixing the most
 * critical then high findings, then the oldest rollout. A new array; the input is left as it was.
 */
export function orderAwaitingRollouts(rollouts: readonly AwaitingRollout[]): AwaitingRollout[] {
  return [...rollouts].sort(
    (a, b) =>
      (a.expiresAt?.getTime() ?? NEVER) - (b.expiresAt?.getTime() ?? NEVER) ||
      b.fixes.critical - a.fixes.critical ||
      b.fixes.high - a.fixes.high ||
      a.rolloutId - b.rolloutId,
  );
}
