import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Vote } from "../../../src/core/rollout/check-approver.js";
import { quorum } from "../../../src/core/rollout/quorum.js";
import type { StagePolicy } from "../../../src/core/rollout/stage-policy.js";
import { stagePolicy } from "../../support/stage-policy.js";

const OLD = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
const NEW = "sha256:9ab0000000000000000000000000000000000000000000000000000000000000";

// Production here needs two approvals.
const policy = (over: Partial<StagePolicy> = {}) => stagePolicy({ approvals: 2, ...over });

let nextUser = 0;
function vote(over: Partial<Vote> = {}): Vote {
  nextUser += 1;
  return {
    userId: `U${nextUser}`,
    userName: null,
    groups: ["S0PAY"],
    digest: NEW,
    at: new Date("2026-11-24T09:12:00Z"),
    override: false,
    ...over,
  };
}
const pay = (over: Partial<Vote> = {}) => vote({ groups: ["S0PAY"], ...over });
const sec = (over: Partial<Vote> = {}) => vote({ groups: ["S0SEC"], ...over });

describe("quorum: N of M", () => {
  it.each<[number, number, string[]]>([
    [2, 0, ["2 more approvals"]],
    [2, 1, ["1 more approval"]],
    [2, 2, []],
    [2, 3, []],
    [3, 0, ["3 more approvals"]],
    [1, 0, ["1 more approval"]],
    [1, 1, []],
    [0, 0, []],
  ])("%i required, %i given → missing %j", (approvals, given, missing) => {
    const votes = Array.from({ length: given }, () => pay());
    const result = quorum(policy({ approvals }), votes, NEW);
    expect(result.missing).toEqual(missing);
    expect(result.met).toBe(missing.length === 0);
    expect(result.counted).toEqual(votes);
  });
});

describe("quorum: required groups", () => {
  const p = policy({ approvals: 2, requiredGroups: ["S0SEC"] });

  it.each<[string, Vote[], string[]]>([
    ["no votes", [], ["2 more approvals", "1 from <!subteam^S0SEC>"]],
    ["two from payments", [pay(), pay()], ["1 from <!subteam^S0SEC>"]],
    ["one from security", [sec()], ["1 more approval"]],
    ["one from each", [pay(), sec()], []],
    ["two from security", [sec(), sec()], []],
  ])("%s → missing %j", (_label, votes, missing) => {
    const result = quorum(p, votes, NEW);
    expect(result).toMatchObject({ met: missing.length === 0, missing });
  });

  it("each required group must be covered, in the order configured", () => {
    const two = policy({ approvals: 1, requiredGroups: ["S0SEC", "S0DBA"] });
    expect(quorum(two, [pay()], NEW).missing).toEqual(["1 from <!subteam^S0SEC>", "1 from <!subteam^S0DBA>"]);
    expect(quorum(two, [sec()], NEW).missing).toEqual(["1 from <!subteam^S0DBA>"]);
    expect(quorum(two, [sec(), vote({ groups: ["S0DBA"] })], NEW).met).toBe(true);
    // One person in both groups covers both (the group rule is about coverage, not head count).
    expect(quorum(two, [vote({ groups: ["S0SEC", "S0DBA"] })], NEW).met).toBe(true);
  });
});

describe("quorum: digest binding", () => {
  it("votes for another digest are not counted", () => {
    const stale = [pay({ digest: OLD }), sec({ digest: OLD })];
    const result = quorum(policy({ requiredGroups: ["S0SEC"] }), stale, NEW);
    expect(result).toEqual({
      met: false,
      missing: ["2 more approvals", "1 from <!subteam^S0SEC>"],
      counted: [],
    });
  });

  it("a required group covered only by a vote for the old digest is still missing", () => {
    const current = pay();
    const result = quorum(policy({ requiredGroups: ["S0SEC"] }), [current, pay(), sec({ digest: OLD })], NEW);
    expect(result.missing).toEqual(["1 from <!subteam^S0SEC>"]);
    expect(result.counted).toHaveLength(2);
    expect(result.counted).toContain(current);
  });

  it("the same votes count again only for the digest they were given for", () => {
    const votes = [pay({ digest: OLD }), pay({ digest: OLD })];
    expect(quorum(policy(), votes, OLD).met).toBe(true);
    expect(quorum(policy(), votes, NEW).met).toBe(false);
  });
});

describe("quorum: emergency lane", () => {
  const p = policy({
    approvals: 1,
    requiredGroups: [],
    emergency: { approvals: 2, requiredGroups: ["S0SEC"] },
  });

  it("uses the emergency numbers when asked", () => {
    expect(quorum(p, [pay()], NEW, { emergency: true }).missing).toEqual([
      "1 more approval",
      "1 from <!subteam^S0SEC>",
    ]);
    expect(quorum(p, [pay(), sec()], NEW, { emergency: true }).met).toBe(true);
  });

  it("uses the normal numbers otherwise", () => {
    expect(quorum(p, [pay()], NEW).met).toBe(true);
    expect(quorum(p, [pay()], NEW, { emergency: false }).met).toBe(true);
  });

  it("falls back to the normal numbers when the stage has no emergency lane", () => {
    const noLane = policy({ approvals: 1, emergency: null });
    expect(quorum(noLane, [pay()], NEW, { emergency: true }).met).toBe(true);
    expect(quorum(noLane, [], NEW, { emergency: true }).missing).toEqual(["1 more approval"]);
  });
});

describe("quorum: a blocked candidate needs an override", () => {
  it.each<[string, Vote[], string[]]>([
    ["no override vote", [pay(), pay()], ["an override from <!subteam^S0SEC>"]],
    ["an override vote", [pay(), sec({ override: true })], []],
    [
      "an override vote for the old digest",
      [pay(), pay(), sec({ override: true, digest: OLD })],
      ["an override from <!subteam^S0SEC>"],
    ],
    ["nothing yet", [], ["2 more approvals", "an override from <!subteam^S0SEC>"]],
  ])("%s → missing %j", (_label, votes, missing) => {
    expect(quorum(policy(), votes, NEW, { needsOverride: true })).toMatchObject({
      met: missing.length === 0,
      missing,
    });
  });

  it("the missing parts are listed approvals first, then groups, then the override", () => {
    const p = policy({ approvals: 3, requiredGroups: ["S0DBA"] });
    expect(quorum(p, [pay()], NEW, { needsOverride: true }).missing).toEqual([
      "2 more approvals",
      "1 from <!subteam^S0DBA>",
      "an override from <!subteam^S0SEC>",
    ]);
  });

  it("an override vote is not needed when the candidate is not blocked", () => {
    expect(quorum(policy(), [pay(), pay()], NEW, { needsOverride: false }).met).toBe(true);
  });
});

describe("quorum properties", () => {
  const groups = ["G1", "G2", "G3"];
  const policyArb = fc
    .record({
      approvals: fc.integer({ min: 0, max: 4 }),
      requiredGroups: fc.subarray(groups),
      overrideGroup: fc.option(fc.constantFrom(...groups), { nil: null }),
      emergency: fc.option(
        fc.record({ approvals: fc.integer({ min: 0, max: 4 }), requiredGroups: fc.subarray(groups) }),
        { nil: null },
      ),
    })
    .map((p) => policy(p));
  const voteArb = fc
    .record({
      userId: fc.constantFrom("U1", "U2", "U3", "U4", "U5"),
      groups: fc.subarray(groups),
      digest: fc.constantFrom<string | null>(OLD, NEW, null),
      override: fc.boolean(),
    })
    .map((v) => vote(v));
  const optsArb = fc.record({ emergency: fc.boolean(), needsOverride: fc.boolean() });
  const digestArb = fc.constantFrom<string | null>(OLD, NEW);

  it("adding a vote never turns met into not met, nor adds to what is missing", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(voteArb, { maxLength: 6 }),
        voteArb,
        digestArb,
        optsArb,
        (p, votes, extra, digest, opts) => {
          const before = quorum(p, votes, digest, opts);
          const after = quorum(p, [...votes, extra], digest, opts);
          if (before.met) expect(after.met).toBe(true);
          expect(after.missing.length).toBeLessThanOrEqual(before.missing.length);
          expect(after.counted.length).toBeGreaterThanOrEqual(before.counted.length);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("votes for another digest never change the outcome", () => {
    fc.assert(
      fc.property(policyArb, fc.array(voteArb, { maxLength: 6 }), optsArb, (p, votes, opts) => {
        const forNew = votes.map((v) => ({ ...v, digest: NEW }));
        const forOld = votes.map((v) => ({ ...v, digest: OLD }));
        const alone = quorum(p, forNew, NEW, opts);
        const mixed = quorum(p, [...forOld, ...forNew], NEW, opts);
        expect(mixed).toEqual(alone);
      }),
    );
  });

  it("met exactly when nothing is missing, and each person with a current-digest vote counts once", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(voteArb, { maxLength: 6 }),
        digestArb,
        optsArb,
        (p, votes, digest, opts) => {
          const result = quorum(p, votes, digest, opts);
          expect(result.met).toBe(result.missing.length === 0);
          expect(result.counted.every((v) => v.digest === digest)).toBe(true);
          // One counted vote per person who voted for this digest.
          const people = new Set(votes.filter((v) => v.digest === digest).map((v) => v.userId));
          expect(result.counted.map((v) => v.userId).sort()).toEqual([...people].sort());
          const lane = opts.emergency && p.emergency ? p.emergency : p;
          if (result.met) {
            expect(result.counted.length).toBeGreaterThanOrEqual(lane.approvals);
            for (const g of lane.requiredGroups)
              expect(result.counted.some((v) => v.groups.includes(g))).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("counts each person once, even if their vote was recorded twice", () => {
    const first = pay({ userId: "USAM" });
    const twice = [first, pay({ userId: "USAM" })];
    const result = quorum(policy({ approvals: 2 }), twice, NEW);
    expect(result).toEqual({ met: false, missing: ["1 more approval"], counted: [first] });
    expect(quorum(policy({ approvals: 2 }), [...twice, pay({ userId: "UALEX" })], NEW).met).toBe(true);
  });

  it("a person's vote for an old digest does not hide their vote for the current one", () => {
    const current = pay({ userId: "USAM", digest: NEW });
    const result = quorum(policy({ approvals: 1 }), [pay({ userId: "USAM", digest: OLD }), current], NEW);
    expect(result).toMatchObject({ met: true, counted: [current] });
  });
});
