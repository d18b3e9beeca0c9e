import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ApproverCheck,
  checkApprover,
  describeApprovers,
  type Refusal,
  type Vote,
} from "../../../src/core/rollout/check-approver.js";
import { eligibleGroups } from "../../../src/core/rollout/stage-policy.js";
import { stagePolicy } from "../../support/stage-policy.js";

const OLD = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
const NEW = "sha256:9ab0000000000000000000000000000000000000000000000000000000000000";

const policy = stagePolicy;

function vote(over: Partial<Vote> = {}): Vote {
  return {
    userId: "UAPPROVER",
    userName: "sam",
    groups: ["S0PAY"],
    digest: NEW,
    at: new Date("2026-11-24T09:12:34Z"),
    override: false,
    ...over,
  };
}

function check(over: Partial<ApproverCheck> = {}): ApproverCheck {
  return {
    policy: policy(),
    voter: { userId: "UAPPROVER", groups: ["S0PAY"] },
    triggeredBy: "UTRIGGER",
    requestedBy: "UREQUEST",
    votes: [],
    candidateDigest: NEW,
    buttonDigest: NEW,
    candidateScanned: true,
    blockingFindings: [],
    overrideReason: null,
    ...over,
  };
}

const refusalOf = (input: ApproverCheck): Refusal => {
  const verdict = checkApprover(input);
  if (verdict.ok) throw new Error(`expected a refusal, got ${JSON.stringify(verdict)}`);
  return verdict.refusal;
};

const APPROVERS = "Approvers: <!subteam^S0PAY>, <!subteam^S0SEC>.";

describe("checkApprover refusals", () => {
  it.each<[string, Partial<ApproverCheck>, Refusal]>([
    [
      "no candidate digest yet",
      { candidateDigest: null, buttonDigest: null },
      {
        code: "no_candidate",
        message:
          "There is no candidate image yet: the rebuild has not uploaded its scan. Approve once it has.",
      },
    ],
    [
      "a button rendered for an older candidate",
      { buttonDigest: OLD },
      {
        code: "superseded",
        message:
          "This button was for an older candidate image; the card now shows the current one. Review it and approve again.",
      },
    ],
    [
      "a button rendered before there was a candidate (buttonDigest null)",
      { buttonDigest: null },
      {
        code: "superseded",
        message:
          "This button was for an older candidate image; the card now shows the current one. Review it and approve again.",
      },
    ],
    [
      "a second vote for the same candidate",
      { votes: [vote()] },
      { code: "already_voted", message: "You already approved this at 2026-11-24T09:12Z." },
    ],
    [
      "someone in no approver group and not listed",
      { voter: { userId: "UOTHER", groups: ["S0WEB"] } },
      { code: "not_eligible", message: `You are not an approver for this stage. ${APPROVERS}` },
    ],
    [
      "the person who started the rollout (four-eyes)",
      { voter: { userId: "UTRIGGER", groups: ["S0PAY"] } },
      {
        code: "four_eyes",
        message: `You requested this rollout, so someone else must approve it (four-eyes). ${APPROVERS}`,
      },
    ],
    [
      "the person who requested this stage (four-eyes)",
      { voter: { userId: "UREQUEST", groups: ["S0PAY"] } },
      {
        code: "four_eyes",
        message: `You asked for this approval, so someone else must approve it (four-eyes). ${APPROVERS}`,
      },
    ],
    [
      "a candidate without a scan",
      { candidateScanned: false },
      {
        code: "no_scan",
        message:
          "The candidate image has no scan yet, so nobody can see what it fixes or introduces. Approve once CI has uploaded its scan.",
      },
    ],
    [
      "a blocked candidate on a stage without an override group",
      { policy: policy({ overrideGroup: null }), blockingFindings: ["CVE-2026-4242"] },
      {
        code: "blocked",
        message:
          "The candidate introduces CVE-2026-4242; this stage does not allow an override. Fix the image and rebuild.",
      },
    ],
    [
      "a blocked candidate approved by someone outside the override group",
      { blockingFindings: ["CVE-2026-4242", "CVE-2026-1111"], overrideReason: "not reachable" },
      {
        code: "blocked",
        message:
          "The candidate introduces CVE-2026-4242, CVE-2026-1111. Only <!subteam^S0SEC> can approve it, with a reason.",
      },
    ],
    [
      "an override without a reason",
      { voter: { userId: "USEC", groups: ["S0SEC"] }, blockingFindings: ["CVE-2026-4242"] },
      {
        code: "blocked",
        message: "The candidate introduces CVE-2026-4242. To approve anyway, give a reason.",
      },
    ],
    [
      "an override whose reason is only spaces",
      {
        voter: { userId: "USEC", groups: ["S0SEC"] },
        blockingFindings: ["CVE-2026-4242"],
        overrideReason: "  \n ",
      },
      {
        code: "blocked",
        message: "The candidate introduces CVE-2026-4242. To approve anyway, give a reason.",
      },
    ],
  ])("refuses %s", (_label, over, expected) => {
    expect(checkApprover(check(over))).toEqual({ ok: false, refusal: expected });
  });

  it("the requester who also started the rollout is told they requested the rollout", () => {
    const input = check({
      voter: { userId: "ULEE", groups: ["S0PAY"] },
      triggeredBy: "ULEE",
      requestedBy: "ULEE",
    });
    expect(refusalOf(input).message).toMatch(/^You requested this rollout, so someone else must approve it/);
  });

  it("the four-eyes refusal names the approver groups as subteam mentions and listed users", () => {
    const input = check({
      policy: policy({ approvers: { groups: ["S0PAY"], users: ["UBOSS"] }, overrideGroup: null }),
      voter: { userId: "UTRIGGER", groups: ["S0PAY"] },
    });
    const refusal = refusalOf(input);
    expect(refusal.code).toBe("four_eyes");
    expect(refusal.message).toContain("<!subteam^S0PAY>");
    expect(refusal.message).toContain("<@UBOSS>");
    expect(refusal.message).toMatch(/<!subteam\^S[A-Z0-9]+>/);
  });

  it("lists only the first five blocking findings", () => {
    const findings = ["CVE-1", "CVE-2", "CVE-3", "CVE-4", "CVE-5", "CVE-6", "CVE-7"];
    const message = refusalOf(check({ blockingFindings: findings })).message;
    expect(message).toContain("CVE-1, CVE-2, CVE-3, CVE-4, CVE-5.");
    expect(message).not.toContain("CVE-6");
  });

  it("a stage nobody may approve says so", () => {
    const input = check({
      policy: policy({ approvers: { groups: [], users: [] }, overrideGroup: null }),
      voter: { userId: "UOTHER", groups: ["S0PAY"] },
    });
    expect(refusalOf(input)).toEqual({
      code: "not_eligible",
      message:
        "You are not an approver for this stage. Approvers: nobody is configured as an approver for this stage.",
    });
  });
});

describe("checkApprover precedence: the first reason is the one a person can act on", () => {
  it("a stale button (superseded) is reported before not_eligible", () => {
    const input = check({ buttonDigest: OLD, voter: { userId: "UOTHER", groups: [] } });
    expect(refusalOf(input).code).toBe("superseded");
  });

  it("fixing each problem in turn reveals the next, in order", () => {
    // Everything wrong at once: no candidate, stale button, voted, not eligible, self-approval,
    // unscanned, blocked.
    let input = check({
      candidateDigest: null,
      buttonDigest: OLD,
      voter: { userId: "UTRIGGER", groups: ["S0WEB"] },
      votes: [vote({ userId: "UTRIGGER", digest: NEW })],
      candidateScanned: false,
      blockingFindings: ["CVE-2026-4242"],
    });
    const seen: Refusal["code"][] = [];
    const fixes: ((i: ApproverCheck) => ApproverCheck)[] = [
      (i) => ({ ...i, candidateDigest: NEW }),
      (i) => ({ ...i, buttonDigest: NEW }),
      (i) => ({ ...i, votes: [] }),
      (i) => ({ ...i, voter: { userId: "UTRIGGER", groups: ["S0PAY"] } }),
      (i) => ({ ...i, voter: { userId: "UAPPROVER", groups: ["S0PAY"] } }),
      (i) => ({ ...i, candidateScanned: true }),
    ];
    for (const fix of fixes) {
      seen.push(refusalOf(input).code);
      input = fix(input);
    }
    seen.push(refusalOf(input).code);
    expect(seen).toEqual([
      "no_candidate",
      "superseded",
      "already_voted",
      "not_eligible",
      "four_eyes",
      "no_scan",
      "blocked",
    ]);
    expect(checkApprover({ ...input, blockingFindings: [] })).toEqual({ ok: true, override: false });
  });
});

describe("checkApprover ok paths", () => {
  it.each<[string, Partial<ApproverCheck>]>([
    [
      "a user listed by id, in no group",
      {
        policy: policy({ approvers: { groups: [], users: ["UBOSS"] } }),
        voter: { userId: "UBOSS", groups: [] },
      },
    ],
    ["a member of an approver group", {}],
    [
      "a member of a required group only",
      { policy: policy({ requiredGroups: ["S0DBA"] }), voter: { userId: "UDBA", groups: ["S0DBA"] } },
    ],
    [
      "a member of the emergency lane's required group only",
      {
        policy: policy({ emergency: { approvals: 2, requiredGroups: ["S0ONCALL"] } }),
        voter: { userId: "UONCALL", groups: ["S0ONCALL"] },
      },
    ],
    ["a member of the override group only", { voter: { userId: "USEC", groups: ["S0SEC"] } }],
    ["someone who approved an older candidate", { votes: [vote({ digest: OLD })] }],
    ["while others have voted for this candidate", { votes: [vote({ userId: "UOTHER" })] }],
    [
      "a candidate with blocking findings on a stage that does not block them",
      { policy: policy({ blockNewCritical: false }), blockingFindings: ["CVE-2026-4242"] },
    ],
    ["an override-group member when nothing is blocking", { voter: { userId: "USEC", groups: ["S0SEC"] } }],
  ])("accepts %s (no override)", (_label, over) => {
    expect(checkApprover(check(over))).toEqual({ ok: true, override: false });
  });

  it("an override-group member with a reason approves a blocked candidate as an override", () => {
    const input = check({
      voter: { userId: "USEC", groups: ["S0SEC", "S0PAY"] },
      blockingFindings: ["CVE-2026-4242"],
      overrideReason: "not reachable, no TLS server",
    });
    expect(checkApprover(input)).toEqual({ ok: true, override: true });
  });

  it.each(["UTRIGGER", "UREQUEST"])("with four-eyes off, %s may approve", (userId) => {
    const input = check({ policy: policy({ fourEyes: false }), voter: { userId, groups: ["S0PAY"] } });
    expect(checkApprover(input)).toEqual({ ok: true, override: false });
  });
});

describe("describeApprovers", () => {
  it("lists every eligible group once, then listed users", () => {
    const p = policy({
      approvers: { groups: ["S0PAY", "S0SEC"], users: ["UBOSS"] },
      requiredGroups: ["S0SEC"],
      emergency: { approvals: 2, requiredGroups: ["S0ONCALL"] },
    });
    expect(eligibleGroups(p)).toEqual(["S0PAY", "S0SEC", "S0ONCALL"]);
    expect(describeApprovers(p)).toBe("<!subteam^S0PAY>, <!subteam^S0SEC>, <!subteam^S0ONCALL>, <@UBOSS>");
  });
});

describe("checkApprover properties", () => {
  const users = ["U1", "U2", "U3", "U4"];
  const groups = ["G1", "G2", "G3"];
  const digests = [OLD, NEW];
  const inputArb: fc.Arbitrary<ApproverCheck> = fc.record({
    policy: fc
      .record({
        approvals: fc.integer({ min: 0, max: 3 }),
        approverGroups: fc.subarray(groups),
        approverUsers: fc.subarray(users),
        requiredGroups: fc.subarray(groups),
        fourEyes: fc.boolean(),
        blockNewCritical: fc.boolean(),
        overrideGroup: fc.option(fc.constantFrom(...groups), { nil: null }),
      })
      .map((p) =>
        policy({
          approvals: p.approvals,
          approvers: { groups: p.approverGroups, users: p.approverUsers },
          requiredGroups: p.requiredGroups,
          fourEyes: p.fourEyes,
          blockNewCritical: p.blockNewCritical,
          overrideGroup: p.overrideGroup,
        }),
      ),
    voter: fc.record({ userId: fc.constantFrom(...users), groups: fc.subarray(groups) }),
    triggeredBy: fc.constantFrom(...users),
    requestedBy: fc.constantFrom(...users),
    votes: fc.array(
      fc
        .record({ userId: fc.constantFrom(...users), digest: fc.constantFrom(...digests) })
        .map((v) => vote(v)),
      { maxLength: 4 },
    ),
    candidateDigest: fc.option(fc.constantFrom(...digests), { nil: null }),
    buttonDigest: fc.option(fc.constantFrom(...digests), { nil: null }),
    candidateScanned: fc.boolean(),
    blockingFindings: fc.subarray(["CVE-1", "CVE-2"]),
    overrideReason: fc.option(fc.constantFrom("", " ", "not reachable"), { nil: null }),
  });

  it("an accepted vote always satisfies every rule; a refusal is always a sentence", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const verdict = checkApprover(input);
        if (!verdict.ok) {
          expect(verdict.refusal.message).toMatch(/^[A-Z].*\.$/s);
          return;
        }
        const { policy: p, voter } = input;
        expect(input.candidateDigest).not.toBeNull();
        expect(input.buttonDigest).toBe(input.candidateDigest);
        expect(input.candidateScanned).toBe(true);
        expect(input.votes.some((v) => v.userId === voter.userId && v.digest === input.candidateDigest)).toBe(
          false,
        );
        expect(
          p.approvers.users.includes(voter.userId) || voter.groups.some((g) => eligibleGroups(p).includes(g)),
        ).toBe(true);
        if (p.fourEyes) expect([input.triggeredBy, input.requestedBy]).not.toContain(voter.userId);
        const blocked = p.blockNewCritical && input.blockingFindings.length > 0;
        expect(verdict.override).toBe(blocked);
        if (blocked) {
          expect(p.overrideGroup).not.toBeNull();
          expect(voter.groups).toContain(p.overrideGroup);
          expect(input.overrideReason?.trim()).toBeTruthy();
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("a button for anything but the current candidate (an old digest or none) is refused as superseded", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        fc.pre(input.candidateDigest !== null && input.buttonDigest !== input.candidateDigest);
        expect(checkApprover(input)).toEqual({
          ok: false,
          refusal: expect.objectContaining({ code: "superseded" }),
        });
      }),
      { numRuns: 500 },
    );
  });
});
