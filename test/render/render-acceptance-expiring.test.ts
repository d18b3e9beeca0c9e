import { describe, expect, it } from "vitest";
import { renderAcceptanceExpiring } from "../../src/render/render-acceptance-expiring.js";
import { notice } from "./acceptance-notice.js";

describe("renderAcceptanceExpiring", () => {
  it("says what expires when, and how to renew it", () => {
    const m = renderAcceptanceExpiring(notice);
    expect(m.text).toBe(
      "⏳ Risk acceptance expires 2026-12-02: CVE-2025-9999 in ghcr.io/acme/search-api will count as open again",
    );
    const body = JSON.stringify(m.blocks);
    expect(body).toContain(`<!date^${Date.parse("2026-12-02T00:00:00Z") / 1000}^`);
    expect(body).toContain("/patch accept CVE-2025-9999 ghcr.io/acme/search-api --until YYYY-MM-DD");
    expect(body).toContain("<@U0SAM>");
    expect(body).not.toContain("<!channel>");
  });

  it("names the team when the acceptance covers all its images", () => {
    expect(renderAcceptanceExpiring({ ...notice, image: null }).text).toContain("every image of team search");
  });
});
