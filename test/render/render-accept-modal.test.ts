import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderAcceptModal } from "../../src/render/render-accept-modal.js";

const base = {
  vulnerabilityId: "CVE-2026-1234",
  targetLabel: "payments-api",
  targetKind: "image" as const,
  teamId: "payments",
  until: "2026-12-20",
  reason: "not reachable: no TLS server",
  maxDays: { critical: 30, high: 90, medium: 180, low: 365 },
  privateMetadata: JSON.stringify({ vulnerabilityId: "CVE-2026-1234" }),
};

describe("renderAcceptModal", () => {
  it("states the vulnerability, the target and its team, and the policy, with the date and reason prefilled", () => {
    const view = renderAcceptModal(base);
    const text = JSON.stringify(view.blocks);
    expect(view.callback_id).toBe("accept_risk");
    expect(view.submit?.text).toBe("Accept risk");
    expect(text).toContain("CVE-2026-1234");
    expect(text).toContain("payments-api (team payments)");
    expect(text).toContain("Critical findings may be accepted for at most 30 days");
    expect(text).toContain('"initial_date":"2026-12-20"');
    expect(text).toContain('"initial_value":"not reachable: no TLS server"');
    expect(checkBlockKitLimits(view, "modal")).toEqual([]);
  });

  it("does not repeat the team when the target is the team", () => {
    const view = renderAcceptModal({
      ...base,
      targetLabel: "every image of team payments",
      targetKind: "team",
    });
    expect(JSON.stringify(view.blocks)).not.toContain("(team payments)");
  });

  it("stays within Block Kit limits and escapes whatever the user typed", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), fc.string({ maxLength: 3000 }), (label, reason) => {
        const view = renderAcceptModal({ ...base, targetLabel: `${label}<!channel>`, reason });
        expect(checkBlockKitLimits(view, "modal")).toEqual([]);
        expect(JSON.stringify(view.blocks)).not.toContain("<!channel>");
      }),
    );
  });
});
