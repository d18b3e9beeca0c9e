import { describe, expect, it } from "vitest";
import {
  deriveFixState,
  fixStateFromGrypeState,
  fixStateFromTrivyStatus,
} from "../../../src/core/scan/normalize-fix-state.js";

describe("fixStateFromTrivyStatus", () => {
  it.each([
    ["fixed", [], "fixed"],
    ["affected", [], "not_fixed"],
    ["fix_deferred", [], "not_fixed"],
    ["under_investigation", [], "not_fixed"],
    ["will_not_fix", [], "wont_fix"],
    ["end_of_life", [], "wont_fix"],
    ["not_affected", [], "unknown"],
    ["unknown", ["1.2"], "unknown"],
    // Reports written before Trivy had Status: a fixed version decides.
    [null, ["1.2"], "fixed"],
    [null, [], "not_fixed"],
    ["something_new", ["1.2"], "fixed"],
  ] as const)("status %j with versions %j is %s", (status, versions, expected) => {
    expect(fixStateFromTrivyStatus(status, versions)).toBe(expected);
  });
});

describe("fixStateFromGrypeState", () => {
  it.each([
    ["fixed", ["1.2"], "fixed"],
    ["not-fixed", [], "not_fixed"],
    ["wont-fix", ["fix_1"], "wont_fix"],
    ["unknown", [], "unknown"],
    ["FIXED", [], "fixed"],
    // An empty state (NVD CPE matches, Grype 0.7's fixedInVersion) is derived from the versions.
    [null, ["1.2"], "fixed"],
    [null, [], "unknown"],
  ] as const)("state %j with versions %j is %s", (state, versions, expected) => {
    expect(fixStateFromGrypeState(state, versions)).toBe(expected);
  });
});

describe("deriveFixState", () => {
  it.each([
    [["1.0"], "unknown", "fixed"],
    [[], "unknown", "unknown"],
    [[], "not_fixed", "not_fixed"],
  ] as const)("versions %j, otherwise %s, is %s", (versions, whenNone, expected) => {
    expect(deriveFixState(versions, whenNone)).toBe(expected);
  });
});
