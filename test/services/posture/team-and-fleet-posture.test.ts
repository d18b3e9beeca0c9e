import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SLA_POLICY } from "../../../src/core/sla/sla-policy.js";
import { createDatabase, type Database } from "../../../src/db/client.js";
import { fleetPosture } from "../../../src/services/posture/fleet-posture.js";
import { teamPosture } from "../../../src/services/posture/team-posture.js";
import { topImagesByRisk } from "../../../src/services/posture/top-images-by-risk.js";
import { unownedPosture } from "../../../src/services/posture/unowned-posture.js";
import { urgentFindings } from "../../../src/services/posture/urgent-findings.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import { ago, NOW, type Scenario, seedScenario } from "./posture-scenario.js";

let database: TestDatabase;
let app: Database;
let s: Scenario;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  s = await seedScenario(app.db);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const sla = DEFAULT_SLA_POLICY;
const headline = (p: Awaited<ReturnType<typeof teamPosture>>) =>
  p && {
    open: p.open,
    fixable: p.fixable,
    knownExploited: p.knownExploited,
    breached: p.breached,
    dueSoon: p.dueSoon,
    acceptedCount: p.acceptedCount,
    scannedImages: p.scannedImages,
    lastScanAt: p.lastScanAt,
  };

describe("teamPosture (/patch status <team>)", () => {
  it("adds up the team's scanned images and ranks them riskiest first", async () => {
    const p = await teamPosture(app.db, { teamId: "payments", now: NOW, sla });
    expect(p?.team).toEqual({ id: "payments", name: "Payments" });
    // payments-api + ledger-worker; refunds-api was never scanned.
    expect(headline(p)).toEqual({
      open: { critical: 5, high: 4, medium: 3, low: 1, negligible: 1, unknown: 1 },
      fixable: 6,
      knownExploited: 3,
      breached: 6,
      dueSoon: 3,
      acceptedCount: 3,
      scannedImages: 2,
      lastScanAt: ago(30 * 60 * 1000),
    });
    expect(p?.dueSoonDays).toBe(7);
    // ledger-worker has two known-exploited findings, payments-api one: known exploited ranks first.
    expect(p?.images.map((i) => [i.name, i.knownExploited, i.breachedCritical, i.critical])).toEqual([
      ["ledger-worker", 2, 0, 1],
      ["payments-api", 1, 3, 4],
    ]);
  });

  it("shortens known-exploited clocks when the config sets a KEV SLA", async () => {
    const p = await teamPosture(app.db, {
      teamId: "payments",
      now: NOW,
      sla: { ...sla, knownExploitedDays: 3 },
    });
    // ledger-worker's high known-exploited finding, seen a day ago, is now due in 2 days.
    expect(p?.dueSoon).toBe(4);
    expect(p?.breached).toBe(6);
  });

  it("does not let another team's acceptances or images leak in", async () => {
    const search = await teamPosture(app.db, { teamId: "search", now: NOW, sla });
    expect(headline(search)).toMatchObject({
      open: { critical: 0, high: 0, medium: 1, low: 0, negligible: 0, unknown: 0 },
      breached: 1,
      acceptedCount: 2,
      scannedImages: 1,
    });
  });

  it("answers a team with nothing scanned with zeros, and an unknown team with null", async () => {
    const quiet = await teamPosture(app.db, { teamId: "quiet", now: NOW, sla });
    expect(headline(quiet)).toEqual({
      open: { critical: 0, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0 },
      fixable: 0,
      knownExploited: 0,
      breached: 0,
      dueSoon: 0,
      acceptedCount: 0,
      scannedImages: 0,
      lastScanAt: null,
    });
    expect(await teamPosture(app.db, { teamId: "nobody", now: NOW, sla })).toBeNull();
  });
});

describe("fleetPosture (all digests at once)", () => {
  it("gives every team the same numbers as asking for it alone", async () => {
    const fleet = await fleetPosture(app.db, { now: NOW, sla });
    expect(fleet.teams.map((t) => t.team.id)).toEqual(["payments", "quiet", "search"]);
    for (const team of fleet.teams) {
      expect(team).toEqual(await teamPosture(app.db, { teamId: team.team.id, now: NOW, sla }));
    }
  });

  it("lists the scanned images no team owns, with their counts", async () => {
    const fleet = await fleetPosture(app.db, { now: NOW, sla });
    expect(
      fleet.unowned.map((i) => ({
        repository: i.repository,
        critical: i.critical,
        dueSoon: i.counts.dueSoon,
      })),
    ).toEqual([{ repository: "docker.io/stray/tool", critical: 1, dueSoon: 1 }]);
    expect(fleet.unowned[0]?.lastScanAt).toEqual(ago(3 * 24 * 60 * 60 * 1000));
    expect(await unownedPosture(app.db, { now: NOW, sla })).toEqual(fleet.unowned);
  });
});

describe("topImagesByRisk", () => {
  it("ranks the whole fleet, unowned images included", async () => {
    const top = await topImagesByRisk(app.db, { now: NOW, sla, limit: 3 });
    expect(top.map((i) => i.name)).toEqual(["ledger-worker", "payments-api", "docker.io/stray/tool"]);
  });

  it("ranks one team's images", async () => {
    const top = await topImagesByRisk(app.db, { teamId: "search", now: NOW, sla, limit: 5 });
    expect(top.map((i) => i.imageId)).toEqual([s.searchApi]);
    expect(await topImagesByRisk(app.db, { teamId: "payments", now: NOW, sla, limit: 0 })).toEqual([]);
  });
});

describe("urgentFindings for a team (the digest's past-SLA list)", () => {
  it("lists breaches across the team's images, most overdue first, naming the image", async () => {
    const urgent = await urgentFindings(app.db, {
      scope: { kind: "team", teamId: "payments" },
      now: NOW,
      sla,
      limit: 50,
    });
    expect(urgent.filter((u) => u.state === "breached")).toHaveLength(6);
    expect(urgent.slice(0, 3).map((u) => [u.vulnerabilityId, u.image.name, u.daysLeft])).toEqual([
      ["CVE-2026-1007", "payments-api", -20],
      ["CVE-2025-4444", "payments-api", -15],
      ["CVE-2025-2222", "payments-api", -13],
    ]);
    // ledger-worker's critical, first seen a day ago, is due in 6 days.
    expect(urgent.find((u) => u.image.name === "ledger-worker")).toMatchObject({
      vulnerabilityId: "CVE-2026-2001",
      state: "due_soon",
      daysLeft: 6,
    });
    expect(urgent.some((u) => u.image.name === "search-api")).toBe(false);
  });
});
