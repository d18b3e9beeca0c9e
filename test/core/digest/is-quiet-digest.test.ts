import { describe, expect, it } from "vitest";
import { isQuietDigest } from "../../../src/core/digest/is-quiet-digest.js";
import type { TeamDigest } from "../../../src/core/digest/team-digest.js";
import { awaitingRollout, counts, quietDigest, slaBreach } from "./digest-builders.js";

describe("isQuietDigest", () => {
  it("is quiet when nothing is new, breached or waiting", () => {
    expect(isQuietDigest(quietDigest())).toBe(true);
  });

  it.each<[string, Partial<TeamDigest>]>([
    ["one new low finding", { newSinceLast: counts({ low: 1 }) }],
    ["one finding past SLA", { breached: 1 }],
    ["a breach waiting for a decision", { slaBreaches: [slaBreach()] }],
    ["a rollout waiting for approval", { rolloutsAwaitingApproval: [awaitingRollout()] }],
    ["a base image that moved", { baseImagesMoved: [{ baseImage: "node:22-bookworm-slim", images: ["a"] }] }],
  ])("is not quiet with %s", (_label, change) => {
    expect(isQuietDigest(quietDigest(change))).toBe(false);
  });

  it.each<[string, Partial<TeamDigest>]>([
    [
      "patches shipped",
      { shipped: { count: 2, fixed: counts({ high: 2 }), meanTimeToRemediateCriticalMs: null } },
    ],
    ["open findings within SLA", { open: counts({ critical: 1, high: 40 }), dueSoon: 3 }],
  ])("stays quiet with %s (the heartbeat names them)", (_label, change) => {
    expect(isQuietDigest(quietDigest(change))).toBe(true);
  });
});
