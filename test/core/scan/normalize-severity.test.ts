import { describe, expect, it } from "vitest";
import { normalizeSeverity } from "../../../src/core/scan/normalize-severity.js";

describe("normalizeSeverity", () => {
  it.each([
    ["CRITICAL", "critical"],
    ["Critical", "critical"],
    ["Defcon1", "critical"],
    ["HIGH", "high"],
    ["Important", "high"],
    ["MEDIUM", "medium"],
    ["Moderate", "medium"],
    ["low", "low"],
    ["Negligible", "negligible"],
    ["info", "negligible"],
    ["none", "negligible"],
    [" high ", "high"],
    ["UNKNOWN", "unknown"],
    ["", "unknown"],
    ["severe", "unknown"],
    [null, "unknown"],
    [3, "unknown"],
  ] as const)("%j is %s", (raw, expected) => {
    expect(normalizeSeverity(raw)).toBe(expected);
  });
});
