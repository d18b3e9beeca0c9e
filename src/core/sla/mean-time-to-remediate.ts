export type RemediatedFinding = { firstSeenAt: Date; fixedAt: Date };

/**
 * Mean time from first seen to fixed, in ms, or null when nothing was fixed. A fix recorded before
 * the finding was first seen (a rescan of an older image, clock skew) counts as immediate rather
 * than pulling the mean down with a negative time.
 */
export function meanTimeToRemediate(pairs: readonly RemediatedFinding[]): number | null {
  if (pairs.length === 0) return null;
  let total = 0;
  for (const { firstSeenAt, fixedAt } of pairs)
    total += Math.max(0, fixedAt.getTime() - firstSeenAt.getTime());
  return Math.round(total / pairs.length);
}
