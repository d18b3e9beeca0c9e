import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestPeriod } from "../../src/core/digest/digest-period.js";
import { DEFAULT_SLA_POLICY } from "../../src/core/sla/sla-policy.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { buildTeamDigest, buildTeamDigests, toSlaBreaches } from "../../src/services/build-team-digest.js";
import {
  meanTimeToRemediate,
  meanTimeToRemediateByTeam,
} from "../../src/services/posture/mean-time-to-remediate.js";
import { teamPosture } from "../../src/services/posture/team-posture.js";
import { urgentFindings, urgentFindingsByTeam } from "../../src/services/posture/urgent-findings.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { ago, NOW, seedScenario } from "./posture/posture-scenario.js";

let database: TestDatabase;
let app: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  await seedScenario(app.db);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const sla = DEFAULT_SLA_POLICY;
const DAY = 24 * 3600_000;
const common = {
  subscriptionId: null,
  period: digestPeriod("0 9 * * 1", "UTC", NOW),
  now: NOW,
  sla,
  unowned: [],
  chartAttached: false,
};

describe("buildTeamDigests (all digests of a subscription at once)", () => {
  it("gives each team the digest it gets alone, and leaves unknown teams out", async () => {
    const all = await buildTeamDigests(app.db, {
      ...common,
      teamIds: ["payments", "search", "quiet", "nobody"],
    });
    expect([...all.keys()]).toEqual(["payments", "search", "quiet"]);
    for (const [teamId, digest] of all) {
      expect(digest).toEqual(await buildTeamDigest(app.db, { ...common, teamId }));
    }
    expect(await buildTeamDigest(app.db, { ...common, teamId: "nobody" })).toBeNull();
  });

  it("keeps each team's numbers and SLA breaches its own", async () => {
    const all = await buildTeamDigests(app.db, { ...common, teamIds: ["search", "payments"] });
    for (const teamId of ["payments", "search"]) {
      const alone = await teamPosture(app.db, { teamId, now: NOW, sla });
      const urgent = await urgentFindings(app.db, {
        scope: { kind: "team", teamId },
        now: NOW,
        sla,
        limit: 200,
      });
      expect(all.get(teamId)?.open).toEqual(alone?.open);
      expect(all.get(teamId)?.slaBreaches).toEqual(toSlaBreaches(urgent, NOW));
    }
    // payments has breaches and search one: neither list carries the other's images.
    expect(all.get("payments")?.slaBreaches.length).toBeGreaterThan(1);
    expect(all.get("search")?.slaBreaches.map((b) => b.image.name)).toEqual(["search-api"]);
  });

  it("counts 'since last digest' from each team's own last digest of the subscription", async () => {
    const sub = await app.pool.query<{ id: string }>(
      `INSERT INTO digest_subscriptions (channel, cron, timezone, teams, source)
       VALUES ('C0DIGEST', '0 9 * * 1', 'UTC', '{payments,search}', 'config') RETURNING id`,
    );
    const subscriptionId = sub.rows[0]?.id ?? "";
    // payments' last digest went out an hour ago, after its two fixes (2 hours ago); search has none.
    await app.pool.query(
      `INSERT INTO digest_runs (subscription_id, period_key, team_id, open, created_at)
       VALUES ($1, 'earlier', 'payments', '{"critical": 9}', $2)`,
      [subscriptionId, ago(3600_000).toISOString()],
    );
    const all = await buildTeamDigests(app.db, {
      ...common,
      subscriptionId,
      teamIds: ["payments", "search"],
    });
    const payments = all.get("payments");
    expect(payments?.previousOpen).toEqual({
      critical: 9,
      high: 0,
      medium: 0,
      low: 0,
      negligible: 0,
      unknown: 0,
    });
    expect(Object.values(payments?.shipped.fixed ?? {}).every((n) => n === 0)).toBe(true);
    expect(all.get("search")?.previousOpen).toBeNull();
    expect(payments).toEqual(
      await buildTeamDigest(app.db, { ...common, subscriptionId, teamId: "payments" }),
    );
    // Without the digest run (a week back), the two fixes are this period's.
    const fresh = await buildTeamDigest(app.db, {
      ...common,
      teamId: "payments",
      subscriptionId: null,
      period: { ...common.period, key: "earlier" },
    });
    expect(Object.values(fresh?.shipped.fixed ?? {}).reduce((a, b) => a + b, 0)).toBe(2);
  });
});

describe("urgentFindingsByTeam", () => {
  it("applies the limit to each team, keeping each team's most overdue first", async () => {
    const byTeam = await urgentFindingsByTeam(app.db, {
      teamIds: ["payments", "search"],
      now: NOW,
      sla,
      limit: 2,
    });
    for (const teamId of ["payments", "search"]) {
      expect(byTeam.get(teamId)).toEqual(
        await urgentFindings(app.db, { scope: { kind: "team", teamId }, now: NOW, sla, limit: 2 }),
      );
    }
    expect(byTeam.get("payments")).toHaveLength(2);
  });
});

describe("meanTimeToRemediateByTeam", () => {
  it("counts each team's fixes from its own last digest", async () => {
    // payments' two fixes were 2 hours ago: inside a day-long period, outside an hour-long one.
    const byTeam = await meanTimeToRemediateByTeam(app.db, {
      teams: [
        { teamId: "payments", from: ago(DAY) },
        { teamId: "search", from: ago(DAY) },
      ],
      to: NOW,
    });
    const payments = await meanTimeToRemediate(app.db, { teamId: "payments", from: ago(DAY), to: NOW });
    expect(byTeam.get("payments")).toEqual(payments);
    expect(Object.values(payments.fixed).reduce((a, b) => a + b, 0)).toBe(2);
    expect(Object.values(byTeam.get("search")?.fixed ?? {}).every((n) => n === 0)).toBe(true);
    const later = await meanTimeToRemediateByTeam(app.db, {
      teams: [{ teamId: "payments", from: ago(3600_000) }],
      to: NOW,
    });
    expect(Object.values(later.get("payments")?.fixed ?? {}).every((n) => n === 0)).toBe(true);
  });
});
