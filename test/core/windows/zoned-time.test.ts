import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { instantAt, isKnownTimeZone, wallClockAt } from "../../../src/core/windows/zoned-time.js";

const wall = (iso: string) => Date.parse(`${iso}Z`);
const iso = (ms: number) => new Date(ms).toISOString();

describe("wallClockAt and instantAt", () => {
  it.each([
    // Ordinary times, both sides of a zone's DST.
    ["Europe/Berlin", "2026-01-15T10:00:00", "2026-01-15T09:00:00.000Z"],
    ["Europe/Berlin", "2026-07-15T10:00:00", "2026-07-15T08:00:00.000Z"],
    ["America/New_York", "2026-07-15T10:00:00", "2026-07-15T14:00:00.000Z"],
    ["Asia/Kolkata", "2026-07-15T10:00:00", "2026-07-15T04:30:00.000Z"],
    // Skipped by spring-forward: moved later by the gap (02:30 CET does not exist; 03:30 CEST).
    ["Europe/Berlin", "2026-03-29T02:30:00", "2026-03-29T01:30:00.000Z"],
    ["America/New_York", "2026-03-08T02:30:00", "2026-03-08T07:30:00.000Z"],
    // A 30-minute gap: 02:15 becomes 02:45 (+11:00).
    ["Australia/Lord_Howe", "2026-10-04T02:15:00", "2026-10-03T15:45:00.000Z"],
    // Shown twice when clocks go back: the first time.
    ["Europe/Berlin", "2026-10-25T02:30:00", "2026-10-25T00:30:00.000Z"],
    ["America/New_York", "2026-11-01T01:30:00", "2026-11-01T05:30:00.000Z"],
  ])("in %s, %s on the wall clock is %s", (zone, wallTime, instant) => {
    expect(iso(instantAt(wall(wallTime), zone))).toBe(instant);
  });

  it("reads the wall clock of both passes through a repeated hour", () => {
    expect(iso(wallClockAt(Date.parse("2026-11-01T05:30:00Z"), "America/New_York"))).toBe(
      "2026-11-01T01:30:00.000Z",
    );
    expect(iso(wallClockAt(Date.parse("2026-11-01T06:30:00Z"), "America/New_York"))).toBe(
      "2026-11-01T01:30:00.000Z",
    );
  });

  it("maps every instant back to itself, or to the first pass of a repeated wall time", () => {
    const zone = fc.constantFrom(
      "Europe/Berlin",
      "America/New_York",
      "Australia/Lord_Howe",
      "Australia/Sydney",
      "UTC",
    );
    const instant = fc.integer({ min: Date.parse("2020-01-01Z"), max: Date.parse("2030-01-01Z") });
    fc.assert(
      fc.property(zone, instant, (z, i) => {
        const w = wallClockAt(i, z);
        const back = instantAt(w, z);
        expect(wallClockAt(back, z)).toBe(w);
        expect(back).toBeLessThanOrEqual(i);
        expect(i - back).toBeLessThanOrEqual(60 * 60 * 1000);
      }),
    );
  });

  it.each([
    ["Europe/Berlin", true],
    ["UTC", true],
    ["Europe/Berlyn", false],
    ["", false],
  ])("knows whether %j is a time zone: %s", (zone, known) => {
    expect(isKnownTimeZone(zone)).toBe(known);
  });
});
