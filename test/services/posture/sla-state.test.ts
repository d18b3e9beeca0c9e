import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Severity } from "../../../src/core/scan/normalized-report.js";
import { type SlaState, slaClock } from "../../../src/core/sla/sla-clock.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../../../src/core/sla/sla-policy.js";
import { createDatabase, type Database } from "../../../src/db/client.js";
import { imagePosture } from "../../../src/services/posture/image-posture.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import { addImage, addLifecycle, addScan, DAY } from "./seed-posture.js";

const NOW = new Date("2026-11-24T12:00:00.000Z");

let database: TestDatabase;
let app: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

type Case = {
  severity: Severity;
  knownExploited: boolean;
  /** How long before NOW it was first seen, in ms (whole ms). */
  elapsed: number;
  /** Microseconds added to first seen, beyond what a JavaScript Date holds. */
  micros?: number;
};

let imageCount = 0;

/** Seeds one image holding `cases` (finding i is CVE-0000-i) and asks imagePosture about it. */
async function throughSql(cases: readonly Case[], policy: SlaPolicy) {
  const imageId = await addImage(app.db, { repository: `ghcr.io/acme/sla-${imageCount++}` });
  const vuln = (i: number) => `CVE-0000-${i}`;
  await addScan(app.db, imageId, {
    at: NOW,
    latest: true,
    findings: cases.map((c, i) => ({
      vuln: vuln(i),
      pkg: "pkg",
      severity: c.severity,
      kev: c.knownExploited,
    })),
  });
  for (const [i, c] of cases.entries()) {
    const ms = new Date(NOW.getTime() - c.elapsed).toISOString();
    const firstSeen = ms.replace("Z", `${String(c.micros ?? 0).padStart(3, "0")}Z`);
    await addLifecycle(app.db, imageId, { vuln: vuln(i), pkg: "pkg", firstSeen });
  }
  const p = await imagePosture(app.db, { imageId, now: NOW, sla: policy, listLimit: 1_000 });
  if (p === null) throw new Error("seeded image not found");
  const state = new Map(p.urgent.map((u) => [u.vulnerabilityId, u.state]));
  return {
    posture: p,
    stateOf: (i: number): SlaState | "within_or_none" => state.get(vuln(i)) ?? "within_or_none",
  };
}

/** What `slaClock` says, from first seen as a JavaScript Date holds it (whole milliseconds). */
function expected(c: Case, policy: SlaPolicy): SlaState | "within_or_none" {
  const firstSeenAt = new Date(NOW.getTime() - c.elapsed);
  const { state } = slaClock(
    { severity: c.severity, knownExploited: c.knownExploited, firstSeenAt },
    policy,
    NOW,
  );
  return state === "within" || state === "none" ? "within_or_none" : state;
}

const policy: SlaPolicy = { ...DEFAULT_SLA_POLICY, dueSoonDays: 2 };
const kevPolicy: SlaPolicy = { ...policy, knownExploitedDays: 3 };

describe("SLA states computed in SQL, at the boundaries (critical: 7 days, due soon 2 days before)", () => {
  const table: [string, Case, SlaPolicy, SlaState | "within_or_none"][] = [
    ["first seen now", { severity: "critical", knownExploited: false, elapsed: 0 }, policy, "within_or_none"],
    [
      "1 ms before the due-soon period",
      { severity: "critical", knownExploited: false, elapsed: 5 * DAY - 1 },
      policy,
      "within_or_none",
    ],
    [
      "exactly 2 days before due",
      { severity: "critical", knownExploited: false, elapsed: 5 * DAY },
      policy,
      "due_soon",
    ],
    [
      "1 ms before due",
      { severity: "critical", knownExploited: false, elapsed: 7 * DAY - 1 },
      policy,
      "due_soon",
    ],
    ["exactly at due", { severity: "critical", knownExploited: false, elapsed: 7 * DAY }, policy, "breached"],
    [
      "1 ms after due",
      { severity: "critical", knownExploited: false, elapsed: 7 * DAY + 1 },
      policy,
      "breached",
    ],
    // 0.4 ms after the due instant's first-seen: a JavaScript Date drops it, and so must the SQL.
    [
      "due, with 400 µs the clock does not see",
      { severity: "critical", knownExploited: false, elapsed: 7 * DAY, micros: 400 },
      policy,
      "breached",
    ],
    [
      "1 ms before due, with 999 µs",
      { severity: "critical", knownExploited: false, elapsed: 7 * DAY - 1, micros: 999 },
      policy,
      "due_soon",
    ],
    [
      "high: exactly at due (30 days)",
      { severity: "high", knownExploited: false, elapsed: 30 * DAY },
      policy,
      "breached",
    ],
    [
      "low: 1 ms before due (180 days)",
      { severity: "low", knownExploited: false, elapsed: 180 * DAY - 1 },
      policy,
      "due_soon",
    ],
    [
      "negligible: never due",
      { severity: "negligible", knownExploited: false, elapsed: 900 * DAY },
      policy,
      "within_or_none",
    ],
    [
      "known exploited, no KEV SLA: its severity's clock",
      { severity: "high", knownExploited: true, elapsed: 3 * DAY },
      policy,
      "within_or_none",
    ],
    [
      "known exploited, KEV SLA 3 days: due at 3 days",
      { severity: "high", knownExploited: true, elapsed: 3 * DAY },
      kevPolicy,
      "breached",
    ],
    [
      "known exploited, KEV SLA: 1 ms before",
      { severity: "high", knownExploited: true, elapsed: 3 * DAY - 1 },
      kevPolicy,
      "due_soon",
    ],
    [
      "known exploited critical: the shorter SLA wins",
      { severity: "critical", knownExploited: true, elapsed: 3 * DAY },
      kevPolicy,
      "breached",
    ],
    [
      "known exploited, unscored: the KEV clock still runs",
      { severity: "unknown", knownExploited: true, elapsed: 3 * DAY },
      kevPolicy,
      "breached",
    ],
    [
      "known exploited negligible without a KEV SLA: no clock",
      { severity: "negligible", knownExploited: true, elapsed: 900 * DAY },
      policy,
      "within_or_none",
    ],
    [
      "not exploited under a KEV SLA: its severity's clock",
      { severity: "high", knownExploited: false, elapsed: 3 * DAY },
      kevPolicy,
      "within_or_none",
    ],
  ];

  it.each(table)("%s", async (_label, c, p, state) => {
    const { posture, stateOf } = await throughSql([c], p);
    expect(stateOf(0)).toBe(state);
    expect(expected(c, p)).toBe(state);
    expect(posture.breached).toBe(state === "breached" ? 1 : 0);
    expect(posture.dueSoon).toBe(state === "due_soon" ? 1 : 0);
  });
});

describe("SLA states in SQL agree with slaClock (property)", () => {
  const severity = fc.constantFrom<Severity>("critical", "high", "medium", "low", "negligible", "unknown");
  const days = fc.integer({ min: 1, max: 400 });
  const policyArb = fc.record({
    days: fc.record({ critical: days, high: days, medium: days, low: days }),
    knownExploitedDays: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
    dueSoonDays: fc.integer({ min: 1, max: 30 }),
  });
  // Near the boundaries as often as anywhere: whole days, ± a millisecond, plus sub-ms noise.
  const elapsed = fc.oneof(
    fc.integer({ min: -2 * DAY, max: 500 * DAY }),
    fc
      .tuple(fc.integer({ min: 0, max: 430 }), fc.integer({ min: -1, max: 1 }))
      .map(([d, ms]) => d * DAY + ms),
  );
  const caseArb = fc.record({
    severity,
    knownExploited: fc.boolean(),
    elapsed,
    micros: fc.integer({ min: 0, max: 999 }),
  });

  it("for random findings and policies: every state, count and due date", async () => {
    await fc.assert(
      fc.asyncProperty(policyArb, fc.array(caseArb, { minLength: 1, maxLength: 25 }), async (p, cases) => {
        const { posture, stateOf } = await throughSql(cases, p);
        const want = cases.map((c) => expected(c, p));
        expect(cases.map((_c, i) => stateOf(i))).toEqual(want);
        expect(posture.breached).toBe(want.filter((s) => s === "breached").length);
        expect(posture.dueSoon).toBe(want.filter((s) => s === "due_soon").length);
        expect(posture.breachedCritical).toBe(
          cases.filter((c, i) => c.severity === "critical" && want[i] === "breached").length,
        );
        const dues = posture.urgent.map((u) => u.dueAt.getTime());
        expect(dues).toEqual([...dues].sort((a, b) => a - b));
      }),
      { numRuns: 40 },
    );
  });
});
