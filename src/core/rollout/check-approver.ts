import { eligibleGroups, type StagePolicy } from "./stage-policy.js";

/** A committed approval, bound to the candidate digest it was given for. */
export type Vote = {
  userId: string;
  userName: string | null;
  /** The policy's groups the person belonged to when they voted. */
  groups: readonly string[];
  digest: string | null;
  at: Date;
  /** Given by the override group to let a candidate with new critical findings through. */
  override: boolean;
};

export type Voter = { userId: string; groups: readonly string[] };

export type ApproverCheck = {
  policy: StagePolicy;
  voter: Voter;
  /** Who started the rollout, and who requested this stage's approval. */
  triggeredBy: string;
  requestedBy: string;
  votes: readonly Vote[];
  candidateDigest: string | null;
  /** The digest the clicked button was rendered for (null: rendered before there was a candidate). */
  buttonDigest: string | null;
  candidateScanned: boolean;
  /** Findings the candidate introduces that block it (new critical or known-exploited). */
  blockingFindings: readonly string[];
  /** The reason typed with an override, when the voter asks for one. */
  overrideReason: string | null;
};

export type Refusal = {
  code:
    | "four_eyes"
    | "not_eligible"
    | "already_voted"
    | "superseded"
    | "no_scan"
    | "blocked"
    | "no_candidate";
  message: string;
};

export type ApproverVerdict = { ok: true; override: boolean } | { ok: false; refusal: Refusal };

const mention = (group: string) => `<!subteam^${group}>`;

/** Who the policy lets approve, for messages: groups as mentions, users as user mentions. */
export function describeApprovers(policy: StagePolicy): string {
  const names = [...eligibleGroups(policy).map(mention), ...policy.approvers.users.map((u) => `<@${u}>`)];
  return names.length === 0 ? "nobody is configured as an approver for this stage" : names.join(", ");
}

/**
 * Four-eyes: with the policy's `fourEyes` on, the person who started the rollout and the person who
 * asked for this stage's approval may not be the one who lets the stage go on — neither by
 * approving it nor by promoting it past an inconclusive health gate (`what` says which). Null
 * when this person may.
 */
export function fourEyesRefusal(
  policy: StagePolicy,
  actorId: string,
  people: { triggeredBy: string; requestedBy: string | null },
  what = "approve it",
): Refusal | null {
  if (!policy.fourEyes) return null;
  if (actorId !== people.triggeredBy && actorId !== people.requestedBy) return null;
  const why = actorId === people.triggeredBy ? "requested this rollout" : "asked for this approval";
  return {
    code: "four_eyes",
    message: `You ${why}, so someone else must ${what} (four-eyes). Approvers: ${describeApprovers(policy)}.`,
  };
}

/**
 * Whether this person may cast this approval now. Order matters: the first reason is the one a
 * person can act on (a stale button before a policy question).
 */
export function checkApprover(input: ApproverCheck): ApproverVerdict {
  const { policy, voter } = input;
  const refuse = (code: Refusal["code"], message: string): ApproverVerdict => ({
    ok: false,
    refusal: { code, message },
  });
  if (input.candidateDigest === null)
    return refuse(
      "no_candidate",
      "There is no candidate image yet: the rebuild has not uploaded its scan. Approve once it has.",
    );
  if (input.buttonDigest !== input.candidateDigest)
    return refuse(
      "superseded",
      "This button was for an older candidate image; the card now shows the current one. Review it and approve again.",
    );
  const earlier = input.votes.find((v) => v.userId === voter.userId && v.digest === input.candidateDigest);
  if (earlier)
    return refuse("already_voted", `You already approved this at ${earlier.at.toISOString().slice(0, 16)}Z.`);
  const isListed =
    policy.approvers.users.includes(voter.userId) ||
    voter.groups.some((g) => eligibleGroups(policy).includes(g));
  if (!isListed)
    return refuse(
      "not_eligible",
      `You are not an approver for this stage. Approvers: ${describeApprovers(policy)}.`,
    );
  const fourEyes = fourEyesRefusal(policy, voter.userId, input);
  if (fourEyes) return { ok: false, refusal: fourEyes };
  if (!input.candidateScanned)
    return refuse(
      "no_scan",
      "The candidate image has no scan yet, so nobody can see what it fixes or introduces. Approve once CI has uploaded its scan.",
    );
  if (policy.blockNewCritical && input.blockingFindings.length > 0) {
    const list = input.blockingFindings.slice(0, 5).join(", ");
    if (policy.overrideGroup === null)
      return refuse(
        "blocked",
        `The candidate introduces ${list}; this stage does not allow an override. Fix the image and rebuild.`,
      );
    if (!voter.groups.includes(policy.overrideGroup))
      return refuse(
        "blocked",
        `The candidate introduces ${list}. Only ${mention(policy.overrideGroup)} can approve it, with a reason.`,
      );
    if (!input.overrideReason?.trim())
      return refuse("blocked", `The candidate introduces ${list}. To approve anyway, give a reason.`);
    return { ok: true, override: true };
  }
  return { ok: true, override: false };
}
