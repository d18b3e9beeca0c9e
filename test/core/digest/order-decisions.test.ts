import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orderAwaitingRollouts } from "../../../src/core/digest/order-awaiting-rollouts.js";
import { orderSlaBreaches } from "../../../src/core/digest/order-sla-breaches.js";
import type { SlaBreach } from "../../../src/core/digest/sla-breach.js";
import { awaitingRollout, counts, daysFromNow, namedImage, slaBreach } from "./digest-builders.js";

describe("orderSlaBreaches", () => {
  // Each row: the breach to decide on first, though the other wins on everything that counts less.
  it.each<[string, SlaBreach, SlaBreach]>([
    [
      "known exploited first",
      slaBreach({ knownExploited: true, severity: "medium", daysPastDue: 1 }),
      slaBreach({ knownExploited: false, severity: "critical", daysPastDue: 90 }),
    ],
    [
      "then the most severe",
      slaBreach({ knownExploited: false, severity: "critical", daysPastDue: 1 }),
      slaBreach({ knownExploited: false, severity: "high", daysPastDue: 90 }),
    ],
    ["then the longest overdue", slaBreach({ daysPastDue: 9 }), slaBreach({ daysPastDue: 2 })],
    [
      "then by vulnerability id",
      slaBreach({ vulnerabilityId: "CVE-2026-0001" }),
      slaBreach({ vulnerabilityId: "CVE-2026-0002" }),
    ],
    [
      "then by image name",
      slaBreach({ image: namedImage("a-api") }),
      slaBreach({ image: namedImage("b-api") }),
    ],
  ])("%s", (_label, first, second) => {
    expect(orderSlaBreaches([second, first])).toEqual([first, second]);
    expect(orderSlaBreaches([first, second])).toEqual([first, second]);
  });

  it("gives the same order whatever order the query returned", () => {
    const breach = fc
      .record({
        knownExploited: fc.boolean(),
        severity: fc.constantFrom("critical", "high", "medium", "low", "negligible", "unknown" as const),
        daysPastDue: fc.integer({ min: 0, max: 5 }),
        id: fc.integer({ min: 0, max: 3 }),
        image: fc.constantFrom("a", "b"),
      })
      .map((r) =>
        slaBreach({ ...r, vulnerabilityId: `CVE-2026-${1000 + r.id}`, image: namedImage(r.image) }),
      );
    fc.assert(
      fc.property(
        fc
          .array(breach, { maxLength: 15 })
          .chain((list) =>
            fc.tuple(
              fc.constant(list),
              fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
            ),
          ),
        ([list, shuffled]) => {
          expect(orderSlaBreaches(shuffled)).toEqual(orderSlaBreaches(list));
        },
      ),
    );
  });

  it("leaves its input as it was", () => {
    const input = [slaBreach({ daysPastDue: 1 }), slaBreach({ daysPastDue: 5 })];
    orderSlaBreaches(input);
    expect(input.map((b) => b.daysPastDue)).toEqual([1, 5]);
  });
});

describe("orderAwaitingRollouts", () => {
  it.each([
    [
      "the approval that lapses soonest first",
      awaitingRollout({ rolloutId: 9, expiresAt: daysFromNow(1), fixes: counts() }),
      awaitingRollout({ rolloutId: 1, expiresAt: daysFromNow(2), fixes: counts({ critical: 9 }) }),
    ],
    [
      "one that lapses before one that never does",
      awaitingRollout({ rolloutId: 9, expiresAt: daysFromNow(30) }),
      awaitingRollout({ rolloutId: 1, expiresAt: null }),
    ],
    [
      "then the one fixing more critical",
      awaitingRollout({ rolloutId: 9, fixes: counts({ critical: 2 }) }),
      awaitingRollout({ rolloutId: 1, fixes: counts({ critical: 1, high: 50 }) }),
    ],
    [
      "then more high",
      awaitingRollout({ rolloutId: 9, fixes: counts({ high: 2 }) }),
      awaitingRollout({ rolloutId: 1, fixes: counts({ high: 1 }) }),
    ],
    ["then the oldest rollout", awaitingRollout({ rolloutId: 1 }), awaitingRollout({ rolloutId: 2 })],
  ])("%s", (_label, first, second) => {
    expect(orderAwaitingRollouts([second, first]).map((r) => r.rolloutId)).toEqual([
      first.rolloutId,
      second.rolloutId,
    ]);
  });
});
