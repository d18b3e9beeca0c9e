import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { HISTORY_SHOWN, renderHistory } from "../../src/render/render-history.js";
import {
  acceptedRisk,
  ampersands,
  counts,
  DIGEST_A,
  DIGEST_B,
  daysFromNow,
  namedImage,
  paymentsApiHistory,
} from "../core/digest/digest-builders.js";
import { blockLines, messageText } from "../core/digest/message-text.js";

describe("renderHistory", () => {
  it("lists scans, shipped patches and acceptances, newest first", () => {
    const m = renderHistory(paymentsApiHistory());
    expect(blockLines(m.blocks)).toEqual([
      "*History of <https://ghcr.io/acme/payments-api|payments-api>*",
      "*Scans*\n" +
        "• <!date^1795424400^{date_short_pretty} {time}|2026-11-23 09:00 UTC> · `sha256:9ab0bbbbbbbb…` · trivy 0.58.1 · new 🟠 1 · fixed 🔴 2 🟠 5\n" +
        "• <!date^1795251600^{date_short_pretty} {time}|2026-11-21 09:00 UTC> · `sha256:4f1caaaaaaaa…` · trivy 0.58.1 · no change",
      "*Patches shipped*\n" +
        "• <!date^1795424400^{date_short_pretty} {time}|2026-11-23 09:00 UTC> · rollout #218 `sha256:4f1caaaaaaaa…` → `sha256:9ab0bbbbbbbb…` · fixed 🔴 2 🟠 5 · shipped ✅",
      "*Accepted risks*\n" +
        "• <https://nvd.nist.gov/vuln/detail/CVE-2025-9999|CVE-2025-9999> until <!date^1796202000^{date_short_pretty}|2026-12-02> (by <@U0SAM>: “not reachable, no TLS server”)\n" +
        "• <https://nvd.nist.gov/vuln/detail/CVE-2024-1111|CVE-2024-1111> expired <!date^1794646800^{date_short_pretty}|2026-11-14> (by security-bot: “vendor fix pending”)",
      "Newest first · `/patch status payments-api` for where it stands now",
    ]);
    expect(m.blocks.at(-1)?.type).toBe("context");
  });

  it("says the same in a one-line fallback, and answers only the caller by default", () => {
    const m = renderHistory(paymentsApiHistory());
    expect(m.text).toBe("History of payments-api: 2 scans, 1 patch shipped, 2 accepted risks (1 active)");
    expect(m.response_type).toBe("ephemeral");
    expect(renderHistory(paymentsApiHistory(), { share: true }).response_type).toBe("in_channel");
  });

  it("marks a rolled-back rollout and a revoked acceptance", () => {
    const h = paymentsApiHistory({
      rollouts: [
        {
          rolloutId: 219,
          finishedAt: daysFromNow(-1),
          fromDigest: null,
          toDigest: DIGEST_B,
          fixed: counts(),
          outcome: "rolled_back",
        },
      ],
      acceptances: [acceptedRisk({ revokedAt: daysFromNow(-2) })],
    });
    const text = messageText(renderHistory(h).blocks);
    expect(text).toContain("· rollout #219 `sha256:9ab0bbbbbbbb…` · rolled back ↩️");
    expect(text).toContain(
      "|CVE-2025-9999> revoked <!date^1795338000^{date_short_pretty}|2026-11-22> (by <@U0SAM>",
    );
  });

  it("says so when there is nothing yet", () => {
    const m = renderHistory({
      image: namedImage("new-api"),
      generatedAt: daysFromNow(0),
      scans: [],
      rollouts: [],
      acceptances: [],
    });
    expect(blockLines(m.blocks).slice(1, 4)).toEqual([
      "*Scans*\nNo scans yet.",
      "*Patches shipped*\nNo rollouts finished yet.",
      "*Accepted risks*\nNone.",
    ]);
  });

  it(`shows at most ${HISTORY_SHOWN} rows of each, newest first, then counts the older ones`, () => {
    const scans = Array.from({ length: 40 }, (_, i) => ({
      at: daysFromNow(-i),
      digest: i % 2 === 0 ? DIGEST_A : DIGEST_B,
      scanner: `trivy 0.${i}`,
      newFindings: counts(),
      fixedFindings: counts(),
    })).reverse();
    const text = messageText(renderHistory(paymentsApiHistory({ scans })).blocks);
    const rows = text.match(/· trivy 0\.\d+ ·/g) ?? [];
    expect(rows).toHaveLength(HISTORY_SHOWN);
    expect(rows[0]).toBe("· trivy 0.0 ·");
    expect(rows.at(-1)).toBe(`· trivy 0.${HISTORY_SHOWN - 1} ·`);
    expect(text).toContain(`…and ${40 - HISTORY_SHOWN} older scans`);
  });

  it("fits a long history with 5,000-character text in every field", () => {
    const long = `${ampersands(2500)}${"x".repeat(2500)}`;
    const h = paymentsApiHistory({
      image: namedImage(long, `ghcr.io/acme/${"r".repeat(5000)}`),
      scans: Array.from({ length: 500 }, (_, i) => ({
        at: daysFromNow(-i),
        digest: `sha256:${long}`,
        scanner: long,
        newFindings: counts({ critical: i, high: i, medium: i, low: i }),
        fixedFindings: counts({ critical: i, high: i, medium: i, low: i }),
      })),
      rollouts: Array.from({ length: 200 }, (_, i) => ({
        rolloutId: i,
        finishedAt: daysFromNow(-i),
        fromDigest: long,
        toDigest: long,
        fixed: counts({ critical: i }),
        outcome: "shipped" as const,
      })),
      acceptances: Array.from({ length: 300 }, () =>
        acceptedRisk({ vulnerabilityId: long, reason: long, acceptedBy: long, acceptedByName: null }),
      ),
    });
    const m = renderHistory(h);
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(m.text).not.toContain("<");
    expect(messageText(m.blocks)).toMatch(/…and \d+ older scans/);
  });
});
