import { describe, expect, it } from "vitest";
import type { MaintenanceWindow } from "../../../src/core/windows/maintenance-window.js";
import { nextOpening } from "../../../src/core/windows/next-opening.js";

const w: MaintenanceWindow = { cron: "0 10 * * TUE", duration: "6h", timezone: "Europe/Berlin" };

describe("nextOpening, Tuesdays 10:00–16:00 Europe/Berlin", () => {
  it.each([
    ["on Monday", "2026-06-01T12:00:00Z", "2026-06-02T08:00:00.000Z"],
    ["1 ms before it opens", "2026-06-02T07:59:59.999Z", "2026-06-02T08:00:00.000Z"],
    // Open now: the next opening is next week's, not the one under way.
    ["the moment it opens", "2026-06-02T08:00:00.000Z", "2026-06-09T08:00:00.000Z"],
    ["while open", "2026-06-02T12:00:00Z", "2026-06-09T08:00:00.000Z"],
    ["after it closed", "2026-06-02T14:00:00Z", "2026-06-09T08:00:00.000Z"],
    ["in winter", "2026-12-01T12:00:00Z", "2026-12-08T09:00:00.000Z"],
  ])("%s (%s) → %s", (_label, now, expected) => {
    expect(nextOpening(w, new Date(now)).toISOString()).toBe(expected);
  });
});
