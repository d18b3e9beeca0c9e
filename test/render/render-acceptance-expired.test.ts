import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderAcceptanceExpired } from "../../src/render/render-acceptance-expired.js";
import { messageText } from "../core/digest/message-text.js";
import { notice } from "./acceptance-notice.js";

describe("renderAcceptanceExpired", () => {
  it("says what counts as open again, who accepted it until when, and how to accept it again", () => {
    const m = renderAcceptanceExpired(notice);
    expect(m.text).toBe(
      "⏰ Risk acceptance expired: CVE-2025-9999 in ghcr.io/acme/search-api counts as open again",
    );
    const body = messageText(m.blocks);
    expect(body).toContain("/patch accept CVE-2025-9999 ghcr.io/acme/search-api --until YYYY-MM-DD");
    expect(body).toContain(`Accepted by <@U0SAM> until <!date^${Date.parse("2026-12-02T00:00:00Z") / 1000}^`);
    expect(body).not.toContain("<!channel>");
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
  });
});
