import { describe, expect, it } from "vitest";
import type { Severity } from "../../../src/core/scan/normalized-report.js";
import { acceptanceExpiryCheck } from "../../../src/core/sla/acceptance-expiry-check.js";

const now = new Date("2026-11-24T15:20:00Z");
const maxDays: Partial<Record<Severity, number>> = { critical: 30, high: 90, medium: 180, low: 365 };

describe("acceptanceExpiryCheck", () => {
  it.each<[Severity, string]>([
    ["critical", "2026-12-24T00:00:00Z"],
    ["critical", "2026-12-24T15:20:00Z"],
    ["critical", "2026-11-25T00:00:00Z"],
    ["critical", "2026-11-24T15:20:00.001Z"],
    ["high", "2027-02-22T00:00:00Z"],
    ["low", "2027-11-24T00:00:00Z"],
    // No maximum configured for these severities: any future date will do.
    ["negligible", "2036-01-01T00:00:00Z"],
    ["unknown", "2036-01-01T00:00:00Z"],
  ])("accepts a %s finding until %s", (severity, until) => {
    expect(acceptanceExpiryCheck(severity, new Date(until), now, maxDays)).toEqual({ ok: true });
  });

  it.each<[Severity, string, string]>([
    [
      "critical",
      "2026-12-25T00:00:00Z",
      "an acceptance of a critical finding may last at most 30 days (until 2026-12-24 at the latest)",
    ],
    [
      "critical",
      "2026-12-24T15:20:00.001Z",
      "an acceptance of a critical finding may last at most 30 days (until 2026-12-24 at the latest)",
    ],
    [
      "high",
      "2027-03-01T00:00:00Z",
      "an acceptance of a high finding may last at most 90 days (until 2027-02-22 at the latest)",
    ],
    [
      "critical",
      "2026-11-24T15:20:00Z",
      "an acceptance must end in the future: pick a date after 2026-11-24",
    ],
    ["low", "2026-11-24T00:00:00Z", "an acceptance must end in the future: pick a date after 2026-11-24"],
    [
      "negligible",
      "2020-01-01T00:00:00Z",
      "an acceptance must end in the future: pick a date after 2026-11-24",
    ],
    ["critical", "not a date", "the end date of an acceptance is not a valid date"],
  ])("refuses a %s finding until %s", (severity, until, message) => {
    expect(acceptanceExpiryCheck(severity, new Date(until), now, maxDays)).toEqual({ ok: false, message });
  });

  it("applies no maximum when none is configured", () => {
    expect(acceptanceExpiryCheck("critical", new Date("2030-01-01T00:00:00Z"), now, {})).toEqual({
      ok: true,
    });
  });
});
