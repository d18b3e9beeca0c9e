import type { Vote } from "./check-approver.js";
import type { StagePolicy } from "./stage-policy.js";

export type Quorum = {
  met: boolean;
  /** What is still missing, for the card: "1 more approval", "1 from <!subteam^S0SEC>". */
  missing: string[];
  counted: Vote[];
};

/**
 * Whether the votes for the current candidate meet the policy. Votes for another digest do not
 * count (digest binding). With `emergency`, the emergency lane's numbers apply instead. A blocked
 * candidate also needs one override vote.
 */
export function quorum(
  policy: StagePolicy,
  votes: readonly Vote[],
  candidateDigest: string | null,
  opts: { emergency?: boolean; needsOverride?: boolean } = {},
): Quorum {
  // One vote per person: a click that raced past the "already voted" check still counts once.
  const byPerson = new Map<string, Vote>();
  for (const v of votes)
    if (v.digest === candidateDigest && !byPerson.has(v.userId)) byPerson.set(v.userId, v);
  const counted = [...byPerson.values()];
  const lane = opts.emergency && policy.emergency ? policy.emergency : policy;
  const missing: string[] = [];
  const short = lane.approvals - counted.length;
  if (short > 0) missing.push(`${short} more approval${short === 1 ? "" : "s"}`);
  for (const group of lane.requiredGroups) {
    if (!counted.some((v) => v.groups.includes(group))) missing.push(`1 from <!subteam^${group}>`);
  }
  if (opts.needsOverride && policy.overrideGroup !== null && !counted.some((v) => v.override))
    missing.push(`an override from <!subteam^${policy.overrideGroup}>`);
  return { met: missing.length === 0, missing, counted };
}
