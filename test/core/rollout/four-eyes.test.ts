import { describe, expect, it } from "vitest";
import { fourEyesRefusal } from "../../../src/core/rollout/check-approver.js";
import { stagePolicy } from "../../support/stage-policy.js";

const people = { triggeredBy: "UTRIGGER", requestedBy: "UREQUEST" };
const APPROVERS = "Approvers: <!subteam^S0PAY>, <!subteam^S0SEC>.";

describe("fourEyesRefusal (approvals and promoting past an inconclusive gate)", () => {
  it("refuses the person who started the rollout, saying so and naming who may", () => {
    expect(fourEyesRefusal(stagePolicy(), "UTRIGGER", people, "promote it")).toEqual({
      code: "four_eyes",
      message: `You requested this rollout, so someone else must promote it (four-eyes). ${APPROVERS}`,
    });
  });

  it("refuses the person who asked for the stage's approval", () => {
    expect(fourEyesRefusal(stagePolicy(), "UREQUEST", people, "promote it")).toEqual({
      code: "four_eyes",
      message: `You asked for this approval, so someone else must promote it (four-eyes). ${APPROVERS}`,
    });
  });

  it("says 'approve it' by default, as the approval refusal always has", () => {
    expect(fourEyesRefusal(stagePolicy(), "UTRIGGER", people)?.message).toMatch(
      /^You requested this rollout, so someone else must approve it \(four-eyes\)/,
    );
  });

  it("lets anyone else act, and anyone at all when the policy turns four-eyes off", () => {
    expect(fourEyesRefusal(stagePolicy(), "UOTHER", people, "promote it")).toBeNull();
    expect(fourEyesRefusal(stagePolicy({ fourEyes: false }), "UTRIGGER", people, "promote it")).toBeNull();
    expect(fourEyesRefusal(stagePolicy(), "UTRIGGER", { triggeredBy: "UX", requestedBy: null })).toBeNull();
  });
});
