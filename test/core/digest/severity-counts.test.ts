import { describe, expect, it } from "vitest";
import { severityCounts, totalOf } from "../../../src/core/digest/severity-counts.js";
import { severityDelta } from "../../../src/core/digest/severity-delta.js";

describe("severityCounts", () => {
  it("fills every severity not given with 0", () => {
    expect(severityCounts({ high: 3 })).toEqual({
      critical: 0,
      high: 3,
      medium: 0,
      low: 0,
      negligible: 0,
      unknown: 0,
    });
  });

  it.each([
    ["all severities", undefined, 21],
    ["critical and high only", ["critical", "high"] as const, 3],
    ["none", [] as const, 0],
  ])("totalOf sums %s", (_label, severities, total) => {
    const c = severityCounts({ critical: 1, high: 2, medium: 3, low: 4, negligible: 5, unknown: 6 });
    expect(totalOf(c, severities)).toBe(total);
  });
});

describe("severityDelta", () => {
  it("is null before the first digest, so nothing claims a change", () => {
    expect(severityDelta(severityCounts({ critical: 4 }), null)).toBeNull();
  });

  it("is positive for more open findings now, negative for fewer", () => {
    const delta = severityDelta(
      severityCounts({ critical: 4, high: 17 }),
      severityCounts({ critical: 6, high: 14 }),
    );
    expect(delta).toEqual(severityCounts({ critical: -2, high: 3 }));
  });
});
