import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Severity } from "../../../src/core/scan/normalized-report.js";
import { type SlaState, slaClock } from "../../../src/core/sla/sla-clock.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../../../src/core/sla/sla-policy.js";

const DAY = 24 * 60 * 60 * 1000;
const firstSeenAt = new Date("2026-11-01T10:00:00Z");
const at = (ms: number) => new Date(firstSeenAt.getTime() + ms);
const kevPolicy: SlaPolicy = { ...DEFAULT_SLA_POLICY, knownExploitedDays: 3 };

describe("slaClock due dates", () => {
  it.each<[Severity, boolean, SlaPolicy, string | null]>([
    ["critical", false, DEFAULT_SLA_POLICY, "2026-11-08T10:00:00.000Z"],
    ["high", false, DEFAULT_SLA_POLICY, "2026-12-01T10:00:00.000Z"],
    ["medium", false, DEFAULT_SLA_POLICY, "2027-01-30T10:00:00.000Z"],
    ["low", false, DEFAULT_SLA_POLICY, "2027-04-30T10:00:00.000Z"],
    ["negligible", false, DEFAULT_SLA_POLICY, null],
    ["unknown", false, DEFAULT_SLA_POLICY, null],
    // The KEV clock is off by default: a known-exploited finding keeps its severity's SLA.
    ["high", true, DEFAULT_SLA_POLICY, "2026-12-01T10:00:00.000Z"],
    ["negligible", true, DEFAULT_SLA_POLICY, null],
    // With a KEV SLA, the shorter of the two wins.
    ["critical", true, kevPolicy, "2026-11-04T10:00:00.000Z"],
    ["high", true, kevPolicy, "2026-11-04T10:00:00.000Z"],
    ["critical", true, { ...kevPolicy, knownExploitedDays: 14 }, "2026-11-08T10:00:00.000Z"],
    ["high", false, kevPolicy, "2026-12-01T10:00:00.000Z"],
    // A known-exploited finding not yet scored still gets the KEV clock.
    ["unknown", true, kevPolicy, "2026-11-04T10:00:00.000Z"],
    ["negligible", true, kevPolicy, "2026-11-04T10:00:00.000Z"],
  ])("%s (known exploited: %s) is due at %s", (severity, knownExploited, policy, due) => {
    const clock = slaClock({ severity, firstSeenAt, knownExploited }, policy, firstSeenAt);
    expect(clock.dueAt?.toISOString() ?? null).toBe(due);
  });

  it.each<Severity>(["negligible", "unknown"])("%s findings have no clock at all", (severity) => {
    expect(
      slaClock({ severity, firstSeenAt, knownExploited: false }, DEFAULT_SLA_POLICY, at(400 * DAY)),
    ).toEqual({
      dueAt: null,
      state: "none",
      daysLeft: null,
    });
  });

  it("counts days as 24 hours of UTC, whatever daylight saving does to local clocks", () => {
    const beforeDstEnd = new Date("2026-10-20T10:00:00Z");
    const clock = slaClock(
      { severity: "critical", firstSeenAt: beforeDstEnd, knownExploited: false },
      DEFAULT_SLA_POLICY,
      beforeDstEnd,
    );
    expect(clock.dueAt?.toISOString()).toBe("2026-10-27T10:00:00.000Z");
  });
});

describe("slaClock state and days left around the boundaries (critical: due after 7 days, due soon 2 days before)", () => {
  const critical = { severity: "critical" as const, firstSeenAt, knownExploited: false };
  const policy: SlaPolicy = { ...DEFAULT_SLA_POLICY, dueSoonDays: 2 };
  it.each<[string, SlaState, number, number]>([
    ["when first seen", "within", 7, 0],
    ["1 ms before the due-soon period", "within", 2, 5 * DAY - 1],
    ["exactly 2 days before due", "due_soon", 2, 5 * DAY],
    ["2 days - 1 ms before due", "due_soon", 1, 5 * DAY + 1],
    ["1 ms before due", "due_soon", 0, 7 * DAY - 1],
    ["exactly at due", "breached", 0, 7 * DAY],
    ["1 ms after due", "breached", 0, 7 * DAY + 1],
    ["1 day after due", "breached", -1, 8 * DAY],
    ["2.5 days after due", "breached", -2, 9.5 * DAY],
  ])("%s: %s with %d days left", (_label, state, daysLeft, elapsed) => {
    const clock = slaClock(critical, policy, at(elapsed));
    expect(clock.state).toBe(state);
    expect(clock.daysLeft).toBe(daysLeft);
    expect(Object.is(clock.daysLeft, -0)).toBe(false);
  });

  it("is due soon from the start when the due-soon period is as long as the SLA", () => {
    expect(slaClock(critical, DEFAULT_SLA_POLICY, firstSeenAt).state).toBe("due_soon");
  });
});

describe("slaClock properties", () => {
  const severity = fc.constantFrom<Severity>("critical", "high", "medium", "low", "negligible", "unknown");
  const finding = fc.record({
    severity,
    firstSeenAt: fc.date({ min: new Date("2000-01-01Z"), max: new Date("2100-01-01Z"), noInvalidDate: true }),
    knownExploited: fc.boolean(),
  });
  const policy = fc.record({
    days: fc.record({
      critical: fc.integer({ min: 1, max: 3650 }),
      high: fc.integer({ min: 1, max: 3650 }),
      medium: fc.integer({ min: 1, max: 3650 }),
      low: fc.integer({ min: 1, max: 3650 }),
    }),
    knownExploitedDays: fc.option(fc.integer({ min: 1, max: 3650 })),
    dueSoonDays: fc.integer({ min: 1, max: 3650 }),
  });
  const elapsed = fc.integer({ min: -10 * 365 * DAY, max: 20 * 365 * DAY });

  it("never puts the due date before the finding was first seen", () => {
    fc.assert(
      fc.property(finding, policy, elapsed, (f, p, e) => {
        const { dueAt } = slaClock(f, p, new Date(f.firstSeenAt.getTime() + e));
        if (dueAt !== null) expect(dueAt.getTime()).toBeGreaterThan(f.firstSeenAt.getTime());
      }),
    );
  });

  it("only moves forward: within → due soon → breached, never back", () => {
    const rank: Record<SlaState, number> = { none: -1, within: 0, due_soon: 1, breached: 2 };
    fc.assert(
      fc.property(finding, policy, elapsed, elapsed, (f, p, e1, e2) => {
        const [earlier, later] = e1 <= e2 ? [e1, e2] : [e2, e1];
        const a = slaClock(f, p, new Date(f.firstSeenAt.getTime() + earlier));
        const b = slaClock(f, p, new Date(f.firstSeenAt.getTime() + later));
        expect(a.dueAt?.getTime()).toBe(b.dueAt?.getTime());
        expect(rank[b.state]).toBeGreaterThanOrEqual(rank[a.state]);
        if (a.daysLeft !== null && b.daysLeft !== null) expect(b.daysLeft).toBeLessThanOrEqual(a.daysLeft);
      }),
    );
  });

  it("is breached exactly when now has reached the due date", () => {
    fc.assert(
      fc.property(finding, policy, elapsed, (f, p, e) => {
        const now = new Date(f.firstSeenAt.getTime() + e);
        const clock = slaClock(f, p, now);
        if (clock.dueAt === null) expect(clock.state).toBe("none");
        else expect(clock.state === "breached").toBe(now.getTime() >= clock.dueAt.getTime());
      }),
    );
  });
});
