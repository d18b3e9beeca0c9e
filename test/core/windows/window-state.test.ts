import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MaintenanceWindow } from "../../../src/core/windows/maintenance-window.js";
import { nextOpening } from "../../../src/core/windows/next-opening.js";
import { type WindowState, windowState } from "../../../src/core/windows/window-state.js";
import { instantAt } from "../../../src/core/windows/zoned-time.js";

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (iso: string, deltaMs = 0) => new Date(Date.parse(iso) + deltaMs);
const open = (closesAt: string): WindowState => ({ open: true, closesAt: new Date(closesAt) });
const closed = (opensAt: string, closesAt: string): WindowState => ({
  open: false,
  opensAt: new Date(opensAt),
  closesAt: new Date(closesAt),
});

describe("windowState, a daily UTC window 10:00–16:00", () => {
  const w: MaintenanceWindow = { cron: "0 10 * * *", duration: "6h", timezone: "UTC" };
  it.each<[string, Date, WindowState]>([
    [
      "1 ms before it opens",
      at("2026-06-01T10:00:00Z", -1),
      closed("2026-06-01T10:00:00Z", "2026-06-01T16:00:00Z"),
    ],
    ["the moment it opens", at("2026-06-01T10:00:00Z"), open("2026-06-01T16:00:00Z")],
    ["1 ms before it closes", at("2026-06-01T16:00:00Z", -1), open("2026-06-01T16:00:00Z")],
    [
      "the moment it closes",
      at("2026-06-01T16:00:00Z"),
      closed("2026-06-02T10:00:00Z", "2026-06-02T16:00:00Z"),
    ],
    ["at midnight", at("2026-06-02T00:00:00Z"), closed("2026-06-02T10:00:00Z", "2026-06-02T16:00:00Z")],
  ])("%s", (_label, now, state) => {
    expect(windowState(w, now)).toEqual(state);
  });
});

describe("windowState across daylight-saving changes", () => {
  it.each<[string, MaintenanceWindow, Date, WindowState]>([
    // Berlin springs forward at 02:00 CET on 29 March 2026: 02:30 is skipped and becomes 03:30 CEST.
    [
      "Berlin 02:30 window, the evening before the change",
      { cron: "30 2 * * *", duration: "1h", timezone: "Europe/Berlin" },
      at("2026-03-28T20:00:00Z"),
      closed("2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"),
    ],
    [
      "Berlin 02:30 window, at 03:15 CEST, just after the jump",
      { cron: "30 2 * * *", duration: "1h", timezone: "Europe/Berlin" },
      at("2026-03-29T01:15:00Z"),
      closed("2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"),
    ],
    [
      "Berlin 02:30 window, at 04:15 CEST, inside the moved window",
      { cron: "30 2 * * *", duration: "1h", timezone: "Europe/Berlin" },
      at("2026-03-29T02:15:00Z"),
      open("2026-03-29T02:30:00Z"),
    ],
    [
      "Berlin 02:30 window, the next day back on 02:30 CEST",
      { cron: "30 2 * * *", duration: "1h", timezone: "Europe/Berlin" },
      at("2026-03-29T03:00:00Z"),
      closed("2026-03-30T00:30:00Z", "2026-03-30T01:30:00Z"),
    ],
    // Berlin falls back at 03:00 CEST on 25 October 2026: 02:30 happens twice; the window opens once.
    [
      "Berlin 02:30 window, during the second 02:30",
      { cron: "30 2 * * *", duration: "30m", timezone: "Europe/Berlin" },
      at("2026-10-25T01:40:00Z"),
      closed("2026-10-26T01:30:00Z", "2026-10-26T02:00:00Z"),
    ],
    // New York falls back at 02:00 EDT on 1 November 2026: 01:30 happens twice.
    [
      "New York 01:30 window, during the first 01:30 (EDT)",
      { cron: "30 1 * * *", duration: "30m", timezone: "America/New_York" },
      at("2026-11-01T05:45:00Z"),
      open("2026-11-01T06:00:00Z"),
    ],
    [
      "New York 01:30 window, during the second 01:30 (EST)",
      { cron: "30 1 * * *", duration: "30m", timezone: "America/New_York" },
      at("2026-11-01T06:45:00Z"),
      closed("2026-11-02T06:30:00Z", "2026-11-02T07:00:00Z"),
    ],
    [
      "New York midnight window of 3 h lasts 3 real hours over the change, closing at 02:00 EST",
      { cron: "0 0 * * *", duration: "3h", timezone: "America/New_York" },
      at("2026-11-01T06:30:00Z"),
      open("2026-11-01T07:00:00Z"),
    ],
    [
      "New York 22:00 window, the evening before spring-forward, closes 9 real hours later",
      { cron: "0 22 * * *", duration: "9h", timezone: "America/New_York" },
      at("2026-03-08T09:00:00Z"),
      open("2026-03-08T12:00:00Z"),
    ],
  ])("%s", (_label, w, now, state) => {
    expect(windowState(w, now)).toEqual(state);
  });
});

describe("windowState, the second Tuesday of the month 10:00–16:00 Europe/Berlin", () => {
  const w: MaintenanceWindow = { cron: "0 10 * * 2#2", duration: "6h", timezone: "Europe/Berlin" };

  it("opens on the second Tuesday of each month, at 10:00 in winter and summer time alike", () => {
    const openings: string[] = [];
    let now = at("2026-01-01T00:00:00Z");
    for (let i = 0; i < 8; i++) {
      now = nextOpening(w, now);
      openings.push(now.toISOString());
    }
    expect(openings).toEqual([
      "2026-01-13T09:00:00.000Z",
      "2026-02-10T09:00:00.000Z",
      "2026-03-10T09:00:00.000Z",
      "2026-04-14T08:00:00.000Z",
      "2026-05-12T08:00:00.000Z",
      "2026-06-09T08:00:00.000Z",
      "2026-07-14T08:00:00.000Z",
      "2026-08-11T08:00:00.000Z",
    ]);
  });

  it.each<[string, Date, WindowState]>([
    [
      "on the first Tuesday",
      at("2026-03-03T10:00:00Z"),
      closed("2026-03-10T09:00:00Z", "2026-03-10T15:00:00Z"),
    ],
    ["on the second Tuesday at 10:30", at("2026-03-10T09:30:00Z"), open("2026-03-10T15:00:00Z")],
    [
      "on the third Tuesday",
      at("2026-03-17T09:30:00Z"),
      closed("2026-04-14T08:00:00Z", "2026-04-14T14:00:00Z"),
    ],
    ["late in December", at("2026-12-20T00:00:00Z"), closed("2027-01-12T09:00:00Z", "2027-01-12T15:00:00Z")],
  ])("%s", (_label, now, state) => {
    expect(windowState(w, now)).toEqual(state);
  });
});

describe("windowState, a window spanning midnight: Friday 22:00 for 8 h, Europe/Berlin", () => {
  const w: MaintenanceWindow = { cron: "0 22 * * FRI", duration: "8h", timezone: "Europe/Berlin" };
  it.each<[string, Date, WindowState]>([
    ["Friday 21:59", at("2026-06-05T19:59:00Z"), closed("2026-06-05T20:00:00Z", "2026-06-06T04:00:00Z")],
    ["Friday 23:00", at("2026-06-05T21:00:00Z"), open("2026-06-06T04:00:00Z")],
    ["Saturday 03:00", at("2026-06-06T01:00:00Z"), open("2026-06-06T04:00:00Z")],
    ["Saturday 06:00", at("2026-06-06T04:00:00Z"), closed("2026-06-12T20:00:00Z", "2026-06-13T04:00:00Z")],
  ])("%s", (_label, now, state) => {
    expect(windowState(w, now)).toEqual(state);
  });
});

describe("windowState, openings that meet or overlap count as one open period", () => {
  it.each<[string, MaintenanceWindow, Date, WindowState]>([
    [
      "09:00 and 10:00 for 1 h each: open 09:00–11:00",
      { cron: "0 9,10 * * *", duration: "1h", timezone: "UTC" },
      at("2026-06-01T09:30:00Z"),
      open("2026-06-01T11:00:00Z"),
    ],
    [
      "09:00 and 10:00 for 90 min each: open 09:00–11:30",
      { cron: "0 9,10 * * *", duration: "90m", timezone: "UTC" },
      at("2026-06-01T10:45:00Z"),
      open("2026-06-01T11:30:00Z"),
    ],
    [
      "09:00 and 11:00 for 1 h each: a gap between",
      { cron: "0 9,11 * * *", duration: "1h", timezone: "UTC" },
      at("2026-06-01T09:30:00Z"),
      open("2026-06-01T10:00:00Z"),
    ],
  ])("%s", (_label, w, now, state) => {
    expect(windowState(w, now)).toEqual(state);
  });

  it("stops extending a window that never closes, rather than looping forever", () => {
    const state = windowState(
      { cron: "* * * * *", duration: "1h", timezone: "UTC" },
      at("2026-06-01T00:00:00Z"),
    );
    expect(state.open).toBe(true);
    expect(state.closesAt.getTime()).toBeGreaterThan(Date.parse("2026-06-01T01:00:00Z"));
  });
});

it("refuses a window that was never validated", () => {
  expect(() =>
    windowState({ cron: "0 10 * *", duration: "6h", timezone: "UTC" }, at("2026-06-01T00:00:00Z")),
  ).toThrow(/window used without validation/);
});

describe("windowState properties", () => {
  const zone = fc.constantFrom(
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
  );
  // Nows cluster around 2026's daylight-saving changes, where schedules go wrong.
  const changes = [
    "2026-03-08T07:00:00Z",
    "2026-03-29T01:00:00Z",
    "2026-04-04T15:00:00Z",
    "2026-10-03T15:30:00Z",
    "2026-10-25T01:00:00Z",
    "2026-11-01T06:00:00Z",
  ].map(Date.parse);
  const now = fc
    .tuple(fc.constantFrom(...changes), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
    .map(([c, d]) => c + d);

  it("for a daily window, is open exactly when some day's opening (resolved in the zone) is under way", () => {
    fc.assert(
      fc.property(
        zone,
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 1, max: 600 }),
        now,
        (tz, hour, minute, minutes, t) => {
          const w = { cron: `${minute} ${hour} * * *`, duration: `${minutes}m`, timezone: tz };
          // The oracle: the wall-clock time on each calendar day, resolved to an instant.
          const day0 = Math.floor(t / DAY) * DAY;
          const starts = [-3, -2, -1, 0, 1, 2, 3]
            .map((d) => instantAt(day0 + d * DAY + hour * HOUR + minute * MINUTE, tz))
            .sort((a, b) => a - b);
          const current = starts.find((s) => s <= t && t < s + minutes * MINUTE);
          const upcoming = starts.find((s) => s > t);
          const state = windowState(w, new Date(t));
          if (current !== undefined) {
            expect(state).toEqual({ open: true, closesAt: new Date(current + minutes * MINUTE) });
          } else {
            expect(upcoming).toBeDefined();
            expect(state).toEqual({
              open: false,
              opensAt: new Date(upcoming ?? 0),
              closesAt: new Date((upcoming ?? 0) + minutes * MINUTE),
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("tells one consistent story over time, whatever the moment it is asked", () => {
    const cron = fc.constantFrom(
      "30 2 * * *",
      "0 1-3 * * *",
      "*/20 2 * * *",
      "0 10 * * 2#2",
      "45 1 * * SUN",
      "0 0 * * *",
    );
    // Short enough that every window closes again: one that never does is cut off at an arbitrary
    // opening, which depends on when it is asked.
    const duration = fc.constantFrom("15m", "30m", "1h", "3h", "20h");
    fc.assert(
      fc.property(zone, cron, duration, now, fc.integer({ min: 1, max: 3 * HOUR }), (tz, c, d, t, step) => {
        const w = { cron: c, duration: d, timezone: tz };
        const first = windowState(w, new Date(t));
        const later = new Date(t + step);
        const second = windowState(w, later);
        if (first.open && later < first.closesAt) expect(second).toEqual(first);
        if (first.open) {
          // At its close it is really closed: openings that meet were merged into one period.
          const atClose = windowState(w, first.closesAt);
          expect(atClose.open).toBe(false);
          if (!atClose.open) expect(atClose.opensAt.getTime()).toBeGreaterThan(first.closesAt.getTime());
        }
        if (!first.open && later < first.opensAt) expect(second).toEqual(first);
        if (!first.open && later >= first.opensAt && later < first.closesAt) {
          expect(second).toEqual({ open: true, closesAt: first.closesAt });
        }
      }),
      { numRuns: 300 },
    );
  });
});
