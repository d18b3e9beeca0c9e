import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { severityCounts } from "../../../src/core/digest/severity-counts.js";
import type { Severity } from "../../../src/core/scan/normalized-report.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../../../src/core/sla/sla-policy.js";
import { createDatabase, type Database } from "../../../src/db/client.js";
import { teamDigestPostures } from "../../../src/services/posture/team-digest-posture.js";
import { teamPosture } from "../../../src/services/posture/team-posture.js";
import { urgentFindings } from "../../../src/services/posture/urgent-findings.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import {
  addAcceptance,
  addImage,
  addLifecycle,
  addScan,
  addTeam,
  DAY,
  HOUR,
  type SeedFinding,
} from "./seed-posture.js";

const NOW = new Date("2026-11-24T12:00:00.000Z");
const SEVERITIES: Severity[] = ["critical", "high", "medium", "low", "negligible", "unknown"];
const TEAMS = ["alpha", "beta", "gamma", "empty"];

let database: TestDatabase;
let app: Database;

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/**
 * Three teams of four images (and a team with none), two scans each, findings of every severity,
 * with duplicate (vulnerability, package) pairs, aliases, shared first-seen instants across images
 * (ties in the urgent order), findings without a lifecycle row, and acceptances of every kind.
 */
async function seedFleet(db: Database["db"]): Promise<void> {
  const next = random(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  for (const team of TEAMS) await addTeam(db, team);
  // Few distinct first-seen instants, so findings of different images tie on their due date.
  const instants = [2, 5, 8, 20, 40, 95, 100, 200, 400].map((d) => new Date(NOW.getTime() - d * DAY));
  for (const team of TEAMS.slice(0, 3)) {
    for (let n = 0; n < 4; n++) {
      const imageId = await addImage(db, {
        repository: `ghcr.io/acme/${team}-${n}`,
        teamId: team,
        ...(n === 3 ? {} : { configId: `${team}-${n}` }),
      });
      const findings: SeedFinding[] = [];
      for (let k = 0; k < 30; k++) {
        const v = Math.floor(next() * 25);
        findings.push({
          vuln: `CVE-2026-${1000 + v}`,
          aliases: v % 4 === 0 ? [`GHSA-${v}`] : [],
          pkg: `pkg-${v % 7}`,
          ...(k % 9 === 0 ? { path: `/opt/${k}` } : {}),
          severity: pick(SEVERITIES),
          fixedVersions: next() < 0.4 ? ["2.0.0"] : [],
          kev: next() < 0.1,
        });
      }
      const unique = [...new Map(findings.map((f) => [`${f.vuln}|${f.pkg}|${f.path ?? ""}`, f])).values()];
      await addScan(db, imageId, { at: new Date(NOW.getTime() - 9 * DAY), findings: unique, latest: false });
      await addScan(db, imageId, { at: new Date(NOW.getTime() - 2 * HOUR), findings: unique, latest: true });
      const pairs = [...new Map(unique.map((f) => [`${f.vuln}|${f.pkg}`, f])).values()];
      for (const [i, f] of pairs.entries()) {
        if (i % 11 === 5) continue; // no lifecycle row: the clock starts at the latest scan
        const at = pick(instants).toISOString();
        await addLifecycle(db, imageId, {
          vuln: f.vuln,
          pkg: f.pkg,
          firstSeen: i % 13 === 0 ? at.replace("Z", "400Z") : at,
        });
      }
      if (n === 0) await addAcceptance(db, { vuln: unique[0]?.vuln ?? "", imageId });
      if (n === 1)
        await addAcceptance(db, { vuln: "GHSA-4", imageId, status: "not_affected", source: "vex" });
      if (n === 2) await addAcceptance(db, { vuln: unique[1]?.vuln ?? "", imageId, status: "affected" });
      if (n === 3) {
        await addAcceptance(db, {
          vuln: unique[2]?.vuln ?? "",
          imageId,
          until: new Date(NOW.getTime() - DAY),
        });
      }
    }
    await addAcceptance(db, { vuln: "CVE-2026-1003", teamId: team });
  }
}

/** "New since last digest" as the digest defined it before the single walk (the reference). */
async function newSinceReference(db: Database["db"], teamId: string, since: Date) {
  const r = await db.execute(sql`
    SELECT f.severity, count(DISTINCT (f.vulnerability_id, f.package_name))::int AS n
    FROM images i
    JOIN finding_lifecycle l ON l.image_id = i.id AND l.first_seen_at > ${since.toISOString()}::timestamptz
    JOIN findings f ON f.scan_id = i.latest_scan_id AND f.vulnerability_id = l.vulnerability_id
      AND f.package_name = l.package_name
    WHERE i.team_id = ${teamId}
    GROUP BY f.severity`);
  const counts = severityCounts();
  for (const row of r.rows as { severity: Severity; n: number }[]) counts[row.severity] = row.n;
  return counts;
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 6 });
  await seedFleet(app.db);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("teamDigestPostures (one walk for posture, urgent findings and new since last)", () => {
  const sinceOf = (teamId: string) => new Date(NOW.getTime() - (TEAMS.indexOf(teamId) * 30 + 7) * DAY);
  const policies: [string, SlaPolicy][] = [
    ["default policy", DEFAULT_SLA_POLICY],
    ["known-exploited clock", { ...DEFAULT_SLA_POLICY, knownExploitedDays: 3, dueSoonDays: 10 }],
  ];

  for (const [label, sla] of policies) {
    for (const limit of [3, 10, 200]) {
      it(`gives each team what the per-team queries give (${label}, ${limit} urgent)`, async () => {
        const teams = [...TEAMS, "nobody"].map((teamId) => ({ teamId, since: sinceOf(teamId) }));
        const walked = await teamDigestPostures(app.db, { teams, now: NOW, sla, limit });
        expect([...walked.keys()].sort()).toEqual([...TEAMS].sort());
        for (const teamId of TEAMS) {
          const got = walked.get(teamId);
          expect(got?.posture).toEqual(await teamPosture(app.db, { teamId, now: NOW, sla }));
          const urgent = await urgentFindings(app.db, {
            scope: { kind: "team", teamId },
            now: NOW,
            sla,
            limit,
          });
          expect(got?.urgent).toEqual(urgent);
          expect(got?.newSinceLast).toEqual(await newSinceReference(app.db, teamId, sinceOf(teamId)));
        }
        // The seeded fleet does exercise the lists: urgent findings cut at the limit, and new ones.
        expect(walked.get("alpha")?.urgent.length).toEqual(limit === 200 ? expect.any(Number) : limit);
        expect(Object.values(walked.get("gamma")?.newSinceLast ?? {}).some((n) => n > 0)).toBe(true);
      });
    }
  }

  it("gives the same answer however the teams are split over connections", async () => {
    const teams = TEAMS.map((teamId) => ({ teamId, since: sinceOf(teamId) }));
    const query = { teams, now: NOW, sla: DEFAULT_SLA_POLICY, limit: 5 };
    const one = await teamDigestPostures(app.db, { ...query, parallel: 1 });
    expect(await teamDigestPostures(app.db, { ...query, parallel: 3 })).toEqual(one);
    expect(one.get("empty")).toEqual({
      posture: await teamPosture(app.db, { teamId: "empty", now: NOW, sla: DEFAULT_SLA_POLICY }),
      urgent: [],
      newSinceLast: severityCounts(),
    });
  });
});
