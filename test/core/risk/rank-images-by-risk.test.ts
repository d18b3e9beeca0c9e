import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareImageRisk } from "../../../src/core/risk/compare-image-risk.js";
import type { ImageRiskSummary } from "../../../src/core/risk/image-risk-summary.js";
import { rankImagesByRisk } from "../../../src/core/risk/rank-images-by-risk.js";

const none: Omit<ImageRiskSummary, "imageId"> = {
  knownExploited: 0,
  breachedCritical: 0,
  critical: 0,
  breachedHigh: 0,
  high: 0,
  fixable: 0,
  medium: 0,
};
const image = (imageId: string, counts: Partial<ImageRiskSummary> = {}): ImageRiskSummary => ({
  ...none,
  imageId,
  ...counts,
});

describe("compareImageRisk", () => {
  // Each row: the riskier image first. The riskier one wins on the named count even though the
  // other has more of everything that counts less.
  const lots = { breachedCritical: 9, critical: 9, breachedHigh: 9, high: 9, fixable: 99, medium: 99 };
  it.each<[string, ImageRiskSummary, ImageRiskSummary]>([
    ["known exploited first", image("z", { knownExploited: 1 }), image("a", lots)],
    [
      "then critical past SLA",
      image("z", { breachedCritical: 1 }),
      image("a", { ...lots, breachedCritical: 0, critical: 50 }),
    ],
    [
      "then critical",
      image("z", { critical: 2 }),
      image("a", { critical: 1, breachedHigh: 9, high: 9, fixable: 9 }),
    ],
    ["then high past SLA", image("z", { breachedHigh: 1 }), image("a", { high: 9, fixable: 9, medium: 9 })],
    ["then high", image("z", { high: 1 }), image("a", { fixable: 9, medium: 9 })],
    ["then fixable", image("z", { fixable: 1 }), image("a", { medium: 9 })],
    ["then medium", image("z", { medium: 1 }), image("a")],
    ["then image id ascending", image("a"), image("b")],
    ["by code unit, not locale: upper case first", image("Z"), image("a")],
  ])("%s", (_label, riskier, other) => {
    expect(compareImageRisk(riskier, other)).toBeLessThan(0);
    expect(compareImageRisk(other, riskier)).toBeGreaterThan(0);
  });

  it("is 0 only for an image compared with its equal", () => {
    expect(compareImageRisk(image("a", { high: 2 }), image("a", { high: 2 }))).toBe(0);
  });
});

const summary = fc.record({
  imageId: fc.string({ maxLength: 3 }),
  knownExploited: fc.nat(2),
  breachedCritical: fc.nat(2),
  critical: fc.nat(2),
  breachedHigh: fc.nat(2),
  high: fc.nat(2),
  fixable: fc.nat(2),
  medium: fc.nat(2),
});
const sign = (n: number) => Math.sign(n) || 0;

describe("compareImageRisk is a total order", () => {
  it("is antisymmetric, and 0 only between equal summaries", () => {
    fc.assert(
      fc.property(summary, summary, (a, b) => {
        expect(sign(compareImageRisk(a, b))).toBe(-sign(compareImageRisk(b, a)) || 0);
        expect(compareImageRisk(a, b) === 0).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
    );
  });

  it("is transitive", () => {
    fc.assert(
      fc.property(summary, summary, summary, (a, b, c) => {
        if (compareImageRisk(a, b) <= 0 && compareImageRisk(b, c) <= 0) {
          expect(compareImageRisk(a, c)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });
});

describe("rankImagesByRisk", () => {
  it("puts the riskiest first", () => {
    const ranked = rankImagesByRisk([
      image("quiet"),
      image("ledger-worker", { knownExploited: 1, critical: 1 }),
      image("api", { critical: 3, breachedCritical: 1 }),
      image("web", { critical: 3 }),
      image("batch", { high: 4, fixable: 4 }),
      image("admin", { high: 4, fixable: 4 }),
    ]);
    expect(ranked.map((i) => i.imageId)).toEqual(["ledger-worker", "api", "web", "admin", "batch", "quiet"]);
  });

  it("ranks the same images the same way whatever order they arrive in, leaving the input alone", () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(summary, { selector: (s) => s.imageId, maxLength: 30 })
          .chain((images) =>
            fc.tuple(fc.constant(images), fc.shuffledSubarray(images, { minLength: images.length })),
          ),
        ([images, shuffled]) => {
          const before = [...shuffled];
          const ranked = rankImagesByRisk(shuffled);
          expect(ranked).toEqual(rankImagesByRisk(images));
          expect(shuffled).toEqual(before);
          for (let i = 1; i < ranked.length; i++) {
            expect(
              compareImageRisk(ranked[i - 1] as ImageRiskSummary, ranked[i] as ImageRiskSummary),
            ).toBeLessThan(0);
          }
        },
      ),
    );
  });
});
