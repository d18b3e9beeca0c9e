import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, DEFAULT_SLA_POLICY } from "../../../src/core/sla/sla-policy.js";
import { createDatabase, type Database } from "../../../src/db/client.js";
import { imagePosture } from "../../../src/services/posture/image-posture.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import { ago, later, NOW, type Scenario, seedScenario } from "./posture-scenario.js";

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

const status = (imageId: string, listLimit = 10) =>
  imagePosture(app.db, { imageId, now: NOW, sla: DEFAULT_SLA_POLICY, listLimit });

describe("imagePosture (/patch status <image>)", () => {
  it("counts the latest scan's open findings only, leaving accepted ones out", async () => {
    const p = await status(s.paymentsApi);
    // Not counted: the older scan's CVE-2024-0001 (critical) and CVE-2024-0002 (high, known
    // exploited); the accepted GHSA (by alias), CVE-2025-7777 (VEX) and CVE-2025-5555 (team).
    expect(p?.open).toEqual({ critical: 4, high: 3, medium: 3, low: 1, negligible: 1, unknown: 1 });
    expect(p?.fixable).toBe(5);
    expect(p?.knownExploited).toBe(1);
    expect(p?.acceptedCount).toBe(3);
  });

  it("counts SLA breaches and findings due within 7 days, and lists them most overdue first", async () => {
    const p = await status(s.paymentsApi);
    expect(p?.breached).toBe(6);
    expect(p?.breachedCritical).toBe(3);
    expect(p?.breachedHigh).toBe(2);
    expect(p?.dueSoon).toBe(2);
    expect(p?.urgent.map((u) => [u.vulnerabilityId, u.state, u.daysLeft])).toEqual([
      ["CVE-2026-1007", "breached", -20],
      ["CVE-2025-4444", "breached", -15],
      ["CVE-2025-2222", "breached", -13],
      ["CVE-2026-1003", "breached", -10],
      ["CVE-2026-1001", "breached", -3],
      ["CVE-2026-1001", "breached", -3],
      ["CVE-2026-1002", "due_soon", 5],
      ["CVE-2026-1005", "due_soon", 5],
    ]);
    const zlib = p?.urgent.find((u) => u.vulnerabilityId === "CVE-2026-1003");
    expect(zlib).toMatchObject({
      packageName: "zlib",
      severity: "high",
      knownExploited: true,
      fixable: true,
      fixedVersions: ["1.3.1"],
      dueAt: ago(10 * DAY_MS),
      image: { imageId: s.paymentsApi, name: "payments-api", repository: "ghcr.io/acme/payments-api" },
    });
  });

  it("keeps only the first few urgent findings when asked for fewer", async () => {
    const p = await status(s.paymentsApi, 2);
    expect(p?.urgent.map((u) => u.vulnerabilityId)).toEqual(["CVE-2026-1007", "CVE-2025-4444"]);
    expect(p?.breached).toBe(6);
  });

  it("lists what is accepted until when, why and by whom, soonest expiry first", async () => {
    const p = await status(s.paymentsApi);
    expect(
      p?.accepted.map((a) => ({
        id: a.vulnerabilityId,
        until: a.until?.toISOString() ?? null,
        forImage: a.image !== null,
        status: a.status,
        reason: a.reason,
        by: a.acceptedByName ?? a.acceptedBy,
        findings: a.findings.map((f) => `${f.vulnerabilityId} ${f.packageName} ${f.severity}`),
      })),
    ).toEqual([
      {
        id: "CVE-2025-9999",
        until: "2026-12-02T00:00:00.000Z",
        forImage: true,
        status: "accepted",
        reason: "not reachable, no TLS server",
        by: "sam",
        findings: ["GHSA-aaaa-bbbb-cccc lodash high"],
      },
      {
        id: "CVE-2025-5555",
        until: "2026-12-20T00:00:00.000Z",
        forImage: false,
        status: "accepted",
        reason: "compensating control: WAF rule",
        by: "lee",
        findings: ["CVE-2025-5555 pcre high"],
      },
      {
        id: "CVE-2025-7777",
        until: null,
        forImage: true,
        status: "not_affected",
        reason: "vulnerable_code_not_in_execute_path",
        by: "vex-import",
        findings: ["CVE-2025-7777 busybox critical"],
      },
    ]);
    expect(p?.accepted[0]?.acceptedAt).toEqual(ago(10 * DAY_MS));
  });

  it("names the image, its team, the latest scan and the rollouts in flight", async () => {
    const p = await status(s.paymentsApi);
    expect(p?.image).toMatchObject({
      imageId: s.paymentsApi,
      name: "payments-api",
      configId: "payments-api",
      repository: "ghcr.io/acme/payments-api",
    });
    expect(p?.image.digest).toMatch(/^sha256:/);
    expect(p?.team).toEqual({ id: "payments", name: "Payments" });
    expect(p?.lastScan).toEqual({ at: ago(2 * 60 * 60 * 1000), scanner: "trivy 0.58.1", findings: 16 });
    // awaiting_approval counts; done and rolled_back are over.
    expect(p?.rolloutsInFlight).toBe(1);
  });

  it("counts an acceptance again once it has expired", async () => {
    const p = await imagePosture(app.db, {
      imageId: s.paymentsApi,
      now: later(9 * DAY_MS), // past the Dec 2 acceptance of CVE-2025-9999, before the team's Dec 20
      sla: DEFAULT_SLA_POLICY,
    });
    expect(p?.acceptedCount).toBe(2);
    expect(p?.open.high).toBe(4);
    expect(p?.accepted.map((a) => a.vulnerabilityId)).toEqual(["CVE-2025-5555", "CVE-2025-7777"]);
  });

  it("answers for an unowned image, and for a configured image never scanned", async () => {
    const stray = await status(s.strayTool);
    expect(stray?.team).toBeNull();
    expect(stray?.image.name).toBe("docker.io/stray/tool");
    expect(stray?.open.critical).toBe(1);
    expect(stray?.dueSoon).toBe(1);

    const refunds = await status(s.refundsApi);
    expect(refunds?.lastScan).toBeNull();
    expect(refunds?.open).toEqual({ critical: 0, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0 });
    expect(refunds?.urgent).toEqual([]);
  });

  it("answers null for an image that does not exist, whatever the id looks like", async () => {
    expect(await status("00000000-0000-4000-8000-000000000000")).toBeNull();
    expect(await status("payments-api")).toBeNull();
  });
});
