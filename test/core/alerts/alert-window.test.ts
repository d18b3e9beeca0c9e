import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alertWindow } from "../../../src/core/alerts/alert-window.js";

describe("alertWindow", () => {
  it.each([
    ["2026-11-24T10:00:00.000Z", 120_000, "2026-11-24T10:00:00.000Z", "2026-11-24T10:02:00.000Z"],
    ["2026-11-24T10:01:59.999Z", 120_000, "2026-11-24T10:00:00.000Z", "2026-11-24T10:02:00.000Z"],
    ["2026-11-24T10:02:00.000Z", 120_000, "2026-11-24T10:02:00.000Z", "2026-11-24T10:04:00.000Z"],
  ])("%s with a %d ms window is [%s, %s)", (at, ms, start, end) => {
    const w = alertWindow(new Date(at), ms);
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual([start, end]);
  });

  it("contains the instant, and two instants of one window share it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 1, max: 86_400_000 }), (t, ms) => {
        const w = alertWindow(new Date(t), ms);
        expect(w.start.getTime()).toBeLessThanOrEqual(t);
        expect(w.end.getTime()).toBeGreaterThan(t);
        expect(w.end.getTime() - w.start.getTime()).toBe(ms);
        expect(alertWindow(w.start, ms)).toEqual(w);
      }),
    );
  });
});
