import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meanTimeToRemediate as coreMean } from "../../../src/core/sla/mean-time-to-remediate.js";
import { createDatabase, type Database } from "../../../src/db/client.js";
import {
  meanTimeToRemediate,
  meanTimeToRemediateByTeam,
} from "../../../src/services/posture/mean-time-to-remediate.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import { addImage, addLifecycle, addScan, addTeam, DAY, HOUR } from "./seed-posture.js";

const T0 = new Date("2026-11-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const iso = (ms: number) => at(ms).toISOString();
const WEEK = { from: at(14 * DAY), to: at(21 * DAY) };

let database: TestDatabase;
let app: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  await addTeam(app.db, "payments");
  await addTeam(app.db, "search");
  const api = await addImage(app.db, { repository: "ghcr.io/acme/api", configId: "api", teamId: "payments" });
  const search = await addImage(app.db, {
    repository: "ghcr.io/acme/search",
    configId: "search",
    teamId: "search",
  });

  // api: scans on day 0, 10 and 20. openssl was high on day 0 and critical from day 10: it counts
  // as critical, the severity in the last scan before the fix on day 20.
  await addScan(app.db, api, {
    at: at(0),
    latest: false,
    findings: [
      { vuln: "CVE-1", pkg: "openssl", severity: "high" },
      { vuln: "CVE-2", pkg: "curl", severity: "high" },
      { vuln: "CVE-4", pkg: "zlib", severity: "critical" },
    ],
  });
  await addScan(app.db, api, {
    at: at(10 * DAY),
    latest: false,
    findings: [
      { vuln: "CVE-1", pkg: "openssl", severity: "critical" },
      { vuln: "CVE-2", pkg: "curl", severity: "high" },
      { vuln: "CVE-3", pkg: "bash", severity: "critical" },
    ],
  });
  await addScan(app.db, api, { at: at(20 * DAY), latest: true, findings: [] });
  await addLifecycle(app.db, api, {
    vuln: "CVE-1",
    pkg: "openssl",
    firstSeen: iso(0),
    fixedAt: iso(20 * DAY),
  });
  // Fixed on the first day of the period (it counts) …
  await addLifecycle(app.db, api, {
    vuln: "CVE-2",
    pkg: "curl",
    firstSeen: iso(4 * DAY),
    fixedAt: iso(14 * DAY),
  });
  // … first seen after its fix (a rescan of an older build): counts as fixed at once, not negative.
  await addLifecycle(app.db, api, {
    vuln: "CVE-3",
    pkg: "bash",
    firstSeen: iso(20 * DAY + HOUR),
    fixedAt: iso(20 * DAY),
  });
  // Fixed before the period, and exactly at its end: neither counts.
  await addLifecycle(app.db, api, { vuln: "CVE-4", pkg: "zlib", firstSeen: iso(0), fixedAt: iso(10 * DAY) });
  await addLifecycle(app.db, api, { vuln: "CVE-5", pkg: "xz", firstSeen: iso(0), fixedAt: iso(21 * DAY) });
  // Still open.
  await addLifecycle(app.db, api, { vuln: "CVE-6", pkg: "tar", firstSeen: iso(0) });
  // Its scans are gone (retention): severity unknown.
  await addLifecycle(app.db, api, {
    vuln: "CVE-7",
    pkg: "perl",
    firstSeen: iso(DAY),
    fixedAt: iso(15 * DAY),
  });

  await addScan(app.db, search, {
    at: at(12 * DAY),
    latest: true,
    findings: [{ vuln: "CVE-8", pkg: "glibc", severity: "critical" }],
  });
  await addLifecycle(app.db, search, {
    vuln: "CVE-8",
    pkg: "glibc",
    firstSeen: iso(12 * DAY),
    fixedAt: iso(16 * DAY),
  });
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const pair = (firstSeenMs: number, fixedMs: number) => ({
  firstSeenAt: at(firstSeenMs),
  fixedAt: at(fixedMs),
});

describe("meanTimeToRemediate over a period", () => {
  it("averages first seen → fixed per severity for one team, as core/sla computes it", async () => {
    const m = await meanTimeToRemediate(app.db, { teamId: "payments", ...WEEK });
    expect(m.meanMs.critical).toBe(coreMean([pair(0, 20 * DAY), pair(20 * DAY + HOUR, 20 * DAY)]));
    expect(m.meanMs.critical).toBe(10 * DAY);
    expect(m.meanMs.high).toBe(10 * DAY);
    expect(m.meanMs.unknown).toBe(14 * DAY);
    expect(m.meanMs.medium).toBeNull();
    expect(m.fixed).toEqual({ critical: 2, high: 1, medium: 0, low: 0, negligible: 0, unknown: 1 });
  });

  it("covers every team when no team is given", async () => {
    const m = await meanTimeToRemediate(app.db, WEEK);
    expect(m.meanMs.critical).toBe(
      coreMean([pair(0, 20 * DAY), pair(20 * DAY + HOUR, 20 * DAY), pair(12 * DAY, 16 * DAY)]),
    );
    expect(m.fixed.critical).toBe(3);
  });

  it("counts each team's fixes from its own last digest when several teams are asked at once", async () => {
    const to = at(21 * DAY);
    const a = await meanTimeToRemediateByTeam(app.db, {
      teams: [
        { teamId: "payments", from: at(15 * DAY) },
        { teamId: "search", from: at(14 * DAY) },
      ],
      to,
    });
    // payments' high (curl) was fixed on day 14, before its period; search's critical on day 16.
    expect(a.get("payments")?.fixed).toMatchObject({ critical: 2, high: 0 });
    expect(a.get("search")?.fixed).toMatchObject({ critical: 1 });
    const b = await meanTimeToRemediateByTeam(app.db, {
      teams: [
        { teamId: "payments", from: at(14 * DAY) },
        { teamId: "search", from: at(17 * DAY) },
      ],
      to,
    });
    expect(b.get("payments")?.fixed).toMatchObject({ critical: 2, high: 1 });
    expect(b.get("search")?.fixed.critical).toBe(0);
  });

  it("is null for every severity when nothing was fixed in the period", async () => {
    const m = await meanTimeToRemediate(app.db, { teamId: "search", from: at(30 * DAY), to: at(37 * DAY) });
    expect(Object.values(m.meanMs).every((v) => v === null)).toBe(true);
  });
});
