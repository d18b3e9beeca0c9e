import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderAcceptanceExpired } from "../../src/render/render-acceptance-expired.js";
import { renderAcceptanceExpiring } from "../../src/render/render-acceptance-expiring.js";
import { renderAcceptanceNotices } from "../../src/render/render-acceptance-notices.js";
import { messageText } from "../core/digest/message-text.js";
import { notice } from "./acceptance-notice.js";

/** Text where half the characters escape to five (`&` → `&amp;`). */
const huge = (tag: string) => `${tag} ${"&".repeat(2500)}${"x".repeat(2500)}`;

describe.each([
  {
    name: "renderAcceptanceExpiring",
    render: renderAcceptanceExpiring,
    lead: /^⏳ Risk acceptance expires 2026-12-02: CVE-2025-9999 in .+ will count as open again$/,
  },
  {
    name: "renderAcceptanceExpired",
    render: renderAcceptanceExpired,
    lead: /^⏰ Risk acceptance expired: CVE-2025-9999 in .+ counts as open again$/,
  },
])("$name: Block Kit limits at the largest input", ({ render, lead }) => {
  it.each([
    ["one image with a 5,000-character name", { image: `ghcr.io/acme/${huge("search-api")}` }],
    [
      "every image of a team (300 images) with a 5,000-character team id",
      { image: null, teamId: huge("search") },
    ],
  ])(
    "fits %s, a 5,000-character reason and approver name, and still says what it is about",
    (_label, over) => {
      const m = render({
        ...notice,
        ...over,
        reason: huge("not reachable: no TLS server"),
        acceptedBy: huge("security-bot"),
        acceptedByName: null,
      });
      expect(checkBlockKitLimits(m, "message")).toEqual([]);
      expect(m.text).toMatch(lead);
      const body = messageText(m.blocks);
      expect(body).toContain("<https://nvd.nist.gov/vuln/detail/CVE-2025-9999|CVE-2025-9999>");
      expect(body).toContain(over.image === null ? "every image of team search" : "ghcr.io/acme/search-api");
      expect(body).toContain("`/patch accept CVE-2025-9999 ");
      expect(body).toContain("“not reachable: no TLS server &amp;");
      expect(body).toContain("…”");
    },
  );

  it("fits a 5,000-character vulnerability id that is no CVE", () => {
    const m = render({ ...notice, vulnerabilityId: huge("VENDOR-1") });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(m.text).toContain("VENDOR-1 &amp;");
  });
});

describe.each(["expiring", "expired"] as const)("renderAcceptanceNotices (%s), several at once", (kind) => {
  const many = (n: number, text: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => ({
      ...notice,
      vulnerabilityId: `CVE-2025-${String(1000 + i)}`,
      image: `ghcr.io/acme/${text(i)}`,
      reason: text(i),
      expiredAt: new Date(notice.expiredAt.getTime() + i * 60_000),
    }));

  it("lists a team's acceptances in one message, soonest first, with how to renew one", () => {
    const m = renderAcceptanceNotices(
      kind,
      many(3, (i) => `svc-${i}`),
    );
    expect(m.text).toMatch(
      kind === "expiring"
        ? /^⏳ 3 risk acceptances of team search expire by /
        : /^⏰ 3 risk acceptances of team search expired$/,
    );
    const body = messageText(m.blocks);
    expect(body.indexOf("CVE-2025-1000")).toBeLessThan(body.indexOf("CVE-2025-1002"));
    expect(body).toContain("ghcr.io/acme/svc-2");
    expect(body).toContain("accepted by <@U0SAM>");
    expect(body).toContain("/patch accept <CVE> <image|team> --until YYYY-MM-DD");
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
  });

  it("fits 300 acceptances with 5,000-character names and reasons, and counts the rest", () => {
    const m = renderAcceptanceNotices(
      kind,
      many(300, (i) => huge(`svc-${i}`)),
    );
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    const body = messageText(m.blocks);
    expect(body).toContain("300 risk acceptances of team search");
    const listed = (body.match(/^• /gm) ?? []).length;
    expect(listed).toBeGreaterThan(0);
    expect(body).toContain(`…and ${300 - listed} more: \`/patch status search\``);
  });

  it("gives a single acceptance its own notice", () => {
    const m = renderAcceptanceNotices(
      kind,
      many(1, () => "search-api"),
    );
    expect(m.text).toContain(kind === "expiring" ? "Risk acceptance expires" : "Risk acceptance expired");
  });
});
