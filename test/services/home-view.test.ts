import { readFile } from "node:fs/promises";
import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { slaPolicyFromConfig } from "../../src/config/sla-policy-from-config.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { createGroupMembership } from "../../src/services/group-membership.js";
import { createHomeView } from "../../src/services/home-view.js";
import { ingestScan, parseReportOrThrow } from "../../src/services/ingest-scan.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { createTeamsOfUser } from "../../src/services/teams-of-user.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.js";
import { digestOf, type SyntheticVuln, trivyReport } from "../support/report-builders.js";

const TOKEN = "xoxb-fake";
let database: TestDatabase;
let app: Database;
let slack: FakeSlack;
let clock = new Date("2026-11-01T00:00:00Z");
let homeView: ReturnType<typeof createHomeView>;
const channelsAsked: string[] = [];

async function ingest(image: string, team: string, n: number, vulns: SyntheticVuln[]) {
  await ingestScan(
    { db: app.db, now: () => clock },
    {
      report: parseReportOrThrow(trivyReport({ image, digest: digestOf(n), vulns })),
      uploaderTeam: team,
      actor: { id: "token:test", name: "ci" },
      origin: { source: "test" },
    },
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  slack = await startFakeSlack({ token: TOKEN });
  const parsed = parseConfigText(
    await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8"),
  );
  if (!parsed.ok) throw new Error("example config invalid");
  const config = parsed.config;
  await syncConfig(app.db, config, (r) => normalizeImageRef(r).repository);

  // First seen on Nov 1st; viewed on Nov 20th, the criticals (7-day SLA) are 12 days late.
  await ingest("ghcr.io/acme/payments-api:1.4", "payments", 1, [
    { id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" },
    { id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH" },
  ]);
  await ingest("ghcr.io/acme/ledger-worker:2.0", "payments", 2, [
    { id: "CVE-2026-3333", pkg: "expat", severity: "CRITICAL" },
  ]);
  await ingest("ghcr.io/acme/search-api:3.1", "search", 3, [
    { id: "CVE-2026-4444", pkg: "jackson", severity: "CRITICAL", fixed: "2.18.1" },
  ]);
  clock = new Date("2026-11-20T00:00:00Z");

  slack.setUsergroupMembers("S0PAYAPPR", ["U0MARIA", "U0BOTH"]);
  slack.setUsergroupMembers("S0SEARCHAP", ["U0BOTH"]);
  const teamsOfUser = createTeamsOfUser({
    config,
    membership: createGroupMembership({
      slack: new WebClient(TOKEN, { slackApiUrl: slack.url }),
      now: () => clock.getTime(),
    }),
  });
  homeView = createHomeView({
    db: app.db,
    sla: slaPolicyFromConfig(config.sla),
    teamsOfUser: (userId, channelId) => {
      channelsAsked.push(channelId);
      return teamsOfUser(userId, channelId);
    },
    now: () => clock,
  });
});
afterAll(async () => {
  await app?.close();
  await slack?.close();
  await database?.drop();
});

describe("createHomeView", () => {
  it("shows an approver group member their team's posture and its breaches, nothing of other teams", async () => {
    const vm = await homeView("U0MARIA");
    expect(vm.viewerId).toBe("U0MARIA");
    expect(vm.generatedAt).toEqual(clock);
    expect(vm.teams.map((t) => t.team)).toEqual([{ id: "payments", name: "Payments" }]);
    const [payments] = vm.teams;
    expect(payments?.open.critical).toBe(2);
    expect(payments?.open.high).toBe(1);
    expect(payments?.breached).toBe(2);
    expect(payments?.scannedImages).toBe(2);
    expect(
      vm.slaBreaches.map((b) => [b.vulnerabilityId, b.image.name, b.daysPastDue, b.fixable]).sort(),
    ).toEqual([
      ["CVE-2026-1111", "payments-api", 12, true],
      ["CVE-2026-3333", "ledger-worker", 12, false],
    ]);
  });

  it("asks for the viewer's teams without a channel, as the Home tab has none", async () => {
    channelsAsked.length = 0;
    await homeView("U0MARIA");
    expect(channelsAsked).toEqual([""]);
  });

  it("counts a config-listed approver, and gathers every team of someone in several", async () => {
    const lead = await homeView("U0SEARCHLEAD");
    expect(lead.teams.map((t) => t.team.id)).toEqual(["search"]);
    expect(lead.slaBreaches.map((b) => b.vulnerabilityId)).toEqual(["CVE-2026-4444"]);

    const both = await homeView("U0BOTH");
    expect(both.teams.map((t) => t.team.id)).toEqual(["payments", "search"]);
    expect(both.slaBreaches.map((b) => b.vulnerabilityId).sort()).toEqual([
      "CVE-2026-1111",
      "CVE-2026-3333",
      "CVE-2026-4444",
    ]);
  });

  it("shows no teams and no breaches to someone in no team, and never an approval yet", async () => {
    const vm = await homeView("U0STRANGER");
    expect(vm.teams).toEqual([]);
    expect(vm.slaBreaches).toEqual([]);
    expect(vm.approvalsWaiting).toEqual([]);
    expect((await homeView("U0MARIA")).approvalsWaiting).toEqual([]);
  });

  it("lists no breach before any finding is past its SLA", async () => {
    const saved = clock;
    clock = new Date("2026-11-05T00:00:00Z");
    try {
      const vm = await homeView("U0MARIA");
      expect(vm.teams[0]?.breached).toBe(0);
      expect(vm.slaBreaches).toEqual([]);
    } finally {
      clock = saved;
    }
  });
});
