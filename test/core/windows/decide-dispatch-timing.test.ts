import { describe, expect, it } from "vitest";
import {
  type DispatchTiming,
  decideDispatchTiming,
} from "../../../src/core/windows/decide-dispatch-timing.js";
import type { Freeze } from "../../../src/core/windows/freeze.js";
import type { MaintenanceWindow } from "../../../src/core/windows/maintenance-window.js";

// Tuesdays 10:00–16:00 Berlin (08:00–14:00 UTC in June).
const window: MaintenanceWindow = { cron: "0 10 * * TUE", duration: "6h", timezone: "Europe/Berlin" };
const freeze: Freeze = {
  id: "summit",
  from: new Date("2026-06-02T00:00:00Z"),
  to: new Date("2026-06-03T00:00:00Z"),
  environments: ["production"],
  reason: "company summit",
};
const mondayNoon = new Date("2026-06-01T10:00:00Z");
const tuesdayNoon = new Date("2026-06-02T10:00:00Z");
const nextTuesdayNoon = new Date("2026-06-09T10:00:00Z");

describe("decideDispatchTiming", () => {
  it.each<[string, Date, string, boolean, MaintenanceWindow | undefined, DispatchTiming]>([
    ["no window, no freeze", mondayNoon, "production", false, undefined, { kind: "now" }],
    ["inside the window", nextTuesdayNoon, "production", false, window, { kind: "now" }],
    [
      "outside the window",
      mondayNoon,
      "production",
      false,
      window,
      { kind: "wait_for_window", opensAt: new Date("2026-06-02T08:00:00Z") },
    ],
    ["outside the window, in an emergency", mondayNoon, "production", true, window, { kind: "now" }],
    ["frozen, inside the window", tuesdayNoon, "production", false, window, { kind: "frozen", freeze }],
    ["frozen, in an emergency", tuesdayNoon, "production", true, window, { kind: "frozen", freeze }],
    ["frozen, with no window", tuesdayNoon, "production", true, undefined, { kind: "frozen", freeze }],
    ["a freeze on another environment", tuesdayNoon, "staging", false, window, { kind: "now" }],
  ])("%s", (_label, now, environment, emergency, w, expected) => {
    expect(decideDispatchTiming({ window: w, freezes: [freeze], environment, now, emergency })).toEqual(
      expected,
    );
  });
});
