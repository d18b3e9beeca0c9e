import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderRiskAccepted } from "../../src/render/render-risk-accepted.js";
import { messageText } from "../core/digest/message-text.js";

const accepted = {
  vulnerabilityId: "CVE-2026-1111",
  targetLabel: "payments-api",
  until: new Date("2026-12-20T00:00:00Z"),
  actorId: "U0MARIA",
};

/** Text where half the characters escape to five (`&` → `&amp;`). */
const huge = (tag: string) => `${tag} ${"&".repeat(2500)}${"x".repeat(2500)}`;

describe("renderRiskAccepted", () => {
  it("confirms what is accepted until when, and by whom", () => {
    const m = renderRiskAccepted(accepted);
    expect(m.text).toBe(
      "✅ CVE-2026-1111 in payments-api accepted until 2026-12-20. It no longer counts as open; it comes back when the acceptance expires.",
    );
    expect(messageText(m.blocks)).toContain(
      "✅ <https://nvd.nist.gov/vuln/detail/CVE-2026-1111|CVE-2026-1111> in payments-api accepted until <!date^",
    );
    expect(messageText(m.blocks)).toContain("(by <@U0MARIA>)");
  });

  it("escapes the target and id in the fallback too", () => {
    const m = renderRiskAccepted({ ...accepted, vulnerabilityId: "<!channel>", targetLabel: "<@U1> & co" });
    expect(m.text).not.toMatch(/<[!@]/);
    expect(m.text).toContain("&lt;!channel&gt; in &lt;@U1&gt; &amp; co");
  });

  it.each([
    [
      "a 5,000-character target (an image name, or every image of a 300-image team)",
      { targetLabel: huge("payments-api") },
    ],
    ["a 5,000-character id that is no CVE", { vulnerabilityId: huge("VENDOR-1") }],
    ["a CVE id with 5,000 digits", { vulnerabilityId: `CVE-2026-${"1".repeat(4991)}` }],
  ])("fits %s and still says it is accepted until when", (_label, over) => {
    const m = renderRiskAccepted({ ...accepted, ...over });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(m.text).toMatch(/^✅ .+ in .+ accepted until 2026-12-20\. /);
    expect(messageText(m.blocks)).toMatch(
      /^✅ .+ in .+ accepted until <!date\^\d+\^\{date_short_pretty\}\|2026-12-20> \(by <@U0MARIA>\)/,
    );
  });
});
