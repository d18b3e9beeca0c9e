import { describe, expect, it } from "vitest";
import { digestPeriod, isoWeek } from "../../../src/core/digest/digest-period.js";

describe("digestPeriod", () => {
  it.each([
    // Monday 09:00 Berlin = 08:00 UTC in winter.
    ["0 9 * * 1", "Europe/Berlin", "2026-11-23T08:00:00Z", "2026-11-23T08:00:00.000Z", "week 48"],
    ["0 9 * * 1", "Europe/Berlin", "2026-11-23T07:59:59Z", "2026-11-16T08:00:00.000Z", "week 47"],
    ["0 9 * * 1", "Europe/Berlin", "2026-11-27T15:00:00Z", "2026-11-23T08:00:00.000Z", "week 48"],
    ["30 8 * * 1", "America/New_York", "2026-11-23T13:30:00Z", "2026-11-23T13:30:00.000Z", "week 48"],
    ["0 9 * * *", "UTC", "2026-11-24T10:00:00Z", "2026-11-24T09:00:00.000Z", "2026-11-24"],
  ])("%s in %s at %s is the period starting %s (%s)", (cron, tz, now, key, label) => {
    const p = digestPeriod(cron, tz, new Date(now));
    expect(p.key).toBe(key);
    expect(p.label).toBe(label);
  });

  it("gives a late run and a retry the same key as the on-time run", () => {
    const onTime = digestPeriod("0 9 * * 1", "Europe/Berlin", new Date("2026-11-23T08:00:00Z"));
    const late = digestPeriod("0 9 * * 1", "Europe/Berlin", new Date("2026-11-23T19:45:00Z"));
    expect(late.key).toBe(onTime.key);
  });

  it.each([
    ["2026-01-01T12:00:00Z", 1],
    ["2026-12-31T12:00:00Z", 53],
    ["2027-01-03T12:00:00Z", 53],
    ["2027-01-04T12:00:00Z", 1],
  ])("ISO week of %s is %i", (d, w) => {
    expect(isoWeek(new Date(d), "UTC")).toBe(w);
  });
});
