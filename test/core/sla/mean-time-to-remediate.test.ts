import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { meanTimeToRemediate } from "../../../src/core/sla/mean-time-to-remediate.js";

const DAY = 24 * 60 * 60 * 1000;
const t0 = Date.parse("2026-01-01T00:00:00Z");
const pair = (seenDay: number, fixedDay: number) => ({
  firstSeenAt: new Date(t0 + seenDay * DAY),
  fixedAt: new Date(t0 + fixedDay * DAY),
});

describe("meanTimeToRemediate", () => {
  it.each([
    ["nothing fixed", [], null],
    ["one fix after 3 days", [pair(0, 3)], 3 * DAY],
    ["fixes after 2 and 5 days", [pair(0, 2), pair(10, 15)], 3.5 * DAY],
    ["a fix the moment it was seen", [pair(4, 4)], 0],
    // A fix recorded before first sighting counts as immediate, not as negative time.
    ["a fix dated before first sighting", [pair(5, 3), pair(0, 4)], 2 * DAY],
  ])("%s → %s ms", (_label, pairs, expected) => {
    expect(meanTimeToRemediate(pairs)).toBe(expected);
  });

  it("lies between the fastest and the slowest fix", () => {
    const p = fc.record({
      firstSeenAt: fc.integer({ min: 0, max: 365 * DAY }),
      took: fc.integer({ min: 0, max: 365 * DAY }),
    });
    fc.assert(
      fc.property(fc.array(p, { minLength: 1, maxLength: 50 }), (raw) => {
        const pairs = raw.map((r) => ({
          firstSeenAt: new Date(t0 + r.firstSeenAt),
          fixedAt: new Date(t0 + r.firstSeenAt + r.took),
        }));
        const mean = meanTimeToRemediate(pairs) ?? Number.NaN;
        expect(mean).toBeGreaterThanOrEqual(Math.min(...raw.map((r) => r.took)));
        expect(mean).toBeLessThanOrEqual(Math.max(...raw.map((r) => r.took)));
      }),
    );
  });
});
