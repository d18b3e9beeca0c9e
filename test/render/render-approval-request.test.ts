import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderApprovalRequest } from "../../src/render/render-approval-request.js";
import { stagePolicy } from "../support/stage-policy.js";

const policy = stagePolicy({
  approvals: 2,
  approvers: { groups: ["S0PAYAPPR"], users: [] },
  requiredGroups: ["S0SECURITY"],
  overrideGroup: null,
});

describe("the approval request in a rollout card's thread", () => {
  it("mentions the approver groups and says exactly what is still missing", () => {
    const m = renderApprovalRequest({
      rolloutId: 218,
      stage: "production",
      image: "payments-api",
      policy,
      missing: ["1 more approval", "1 from <!subteam^S0SECURITY>"],
    });
    expect(m.text).toBe(
      "<!subteam^S0PAYAPPR>, <!subteam^S0SECURITY>: *production* of payments-api (rollout #218) needs 1 more approval, 1 from <!subteam^S0SECURITY>. Review the card above and approve or reject.",
    );
  });

  it("cannot be turned into a mention by an image or stage name, and stays within limits", () => {
    const m = renderApprovalRequest({
      rolloutId: 1,
      stage: "<!channel>".repeat(50),
      image: "<!here>".repeat(500),
      policy,
      missing: ["2 more approvals"],
    });
    expect(m.text).not.toContain("<!channel>");
    expect(m.text).not.toContain("<!here>");
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
  });
});
