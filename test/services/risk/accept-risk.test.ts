import { asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFileSchema } from "../../../src/config/file-schema.js";
import { createDatabase, type Database } from "../../../src/db/client.js";
import { auditEvents, riskAcceptances } from "../../../src/db/schema/index.js";
import { type AcceptRiskInput, acceptRisk } from "../../../src/services/risk/accept-risk.js";
import { revokeAcceptance } from "../../../src/services/risk/revoke-acceptance.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import { seedRiskFleet } from "./seed-risk-fleet.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const DAY = 24 * 3600 * 1000;
const inDays = (n: number) => new Date(NOW.getTime() + n * DAY);
const config = configFileSchema.parse({ version: 1, teams: [{ id: "payments", channel: "C0PAYMENTS" }] });
const maria = { id: "U0MARIA", name: "Maria" };
const slackOrigin = { source: "slack", team: "T0ACME", channel: "C0PAYMENTS", command: "/patch accept" };

let database: TestDatabase;
let app: Database;
let fleet: Awaited<ReturnType<typeof seedRiskFleet>>;
const deps = () => ({ db: app.db, config, now: () => NOW });

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  fleet = await seedRiskFleet(app.db);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

function input(overrides: Partial<AcceptRiskInput>): AcceptRiskInput {
  return {
    vulnerabilityId: "CVE-2024-0002",
    target: { imageRef: "ghcr.io/acme/api" },
    until: inDays(60),
    reason: "only reachable from the admin VPN; tracked in SEC-123",
    actor: maria,
    source: "slack",
    origin: slackOrigin,
    ...overrides,
  };
}

const auditRows = () => app.db.select().from(auditEvents).orderBy(asc(auditEvents.seq));

describe("acceptRisk", () => {
  it("stores an acceptance of a high finding for 60 days, with its audit row", async () => {
    const before = (await auditRows()).length;
    const accepted = await acceptRisk(deps(), input({ target: { imageRef: "ghcr.io/acme/api:1.4.2" } }));
    expect(accepted).toMatchObject({
      vulnerabilityId: "CVE-2024-0002",
      imageId: fleet.api,
      teamId: null,
      source: "slack",
      status: "accepted",
      acceptedBy: "U0MARIA",
      acceptedByName: "Maria",
      expiresAt: inDays(60),
      revokedAt: null,
      severity: "high",
    });
    const rows = await auditRows();
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({
      at: NOW,
      actorId: "U0MARIA",
      actorName: "Maria",
      action: "risk.accepted",
      outcome: "ok",
      origin: slackOrigin,
      resource: {
        acceptanceId: accepted.id,
        vulnerabilityId: "CVE-2024-0002",
        image: "ghcr.io/acme/api",
        imageId: fleet.api,
      },
      payload: {
        until: inDays(60).toISOString(),
        reason: "only reachable from the admin VPN; tracked in SEC-123",
        severity: "high",
        source: "slack",
      },
    });
  });

  it("refuses a second acceptance of the same vulnerability and image, naming the first", async () => {
    const before = (await auditRows()).length;
    await expect(
      acceptRisk(deps(), input({ target: { imageRef: "api" }, actor: { id: "U0BOB" } })),
    ).rejects.toMatchObject({
      code: "already_accepted",
      status: 409,
      message: expect.stringContaining("already accepted until 2025-07-31 by Maria"),
    });
    expect((await auditRows()).length).toBe(before);
    const stored = await app.db
      .select()
      .from(riskAcceptances)
      .where(eq(riskAcceptances.vulnerabilityId, "CVE-2024-0002"));
    expect(stored).toHaveLength(1);
  });

  it.each([
    ["critical", "CVE-2024-0001", 31, "at most 30 days"],
    ["critical by its GHSA alias", "GHSA-aaaa-bbbb-cccc", 31, "at most 30 days"],
    ["high", "CVE-2024-0002", 91, "at most 90 days"],
    ["medium", "CVE-2024-0003", 181, "at most 180 days"],
    ["low", "CVE-2024-0004", 366, "at most 365 days"],
  ])("refuses a %s finding (%s) accepted for %i days", async (_label, id, days, said) => {
    await expect(
      acceptRisk(deps(), input({ vulnerabilityId: id, target: { imageRef: "api" }, until: inDays(days) })),
    ).rejects.toMatchObject({ code: "expiry_too_long", status: 400, message: expect.stringContaining(said) });
  });

  it("checks a critical finding against 30 days where the same CVE in another image is only high", async () => {
    // CVE-2024-0001 is critical in api but high in search: 60 days passes for search only.
    const ok = await acceptRisk(
      deps(),
      input({
        vulnerabilityId: "CVE-2024-0001",
        target: { imageRef: "ghcr.io/acme/search" },
        until: inDays(60),
      }),
    );
    expect(ok.severity).toBe("high");
    await expect(
      acceptRisk(deps(), input({ vulnerabilityId: "CVE-2024-0001", until: inDays(60) })),
    ).rejects.toMatchObject({ code: "expiry_too_long" });
  });

  it("records an acceptance asked by alias under the id the scanner reports", async () => {
    const accepted = await acceptRisk(
      deps(),
      input({ vulnerabilityId: "ghsa-AAAA-bbbb-cccc", target: { imageRef: "api" }, until: inDays(29) }),
    );
    expect(accepted).toMatchObject({ vulnerabilityId: "CVE-2024-0001", severity: "critical" });
  });

  it("accepts for a whole team against the highest severity among its images", async () => {
    // CVE-2024-0002 is high in api but critical in worker: the team acceptance is capped at 30 days.
    await expect(
      acceptRisk(deps(), input({ target: { teamId: "payments" }, until: inDays(31) })),
    ).rejects.toMatchObject({
      code: "expiry_too_long",
      message: expect.stringContaining("every image of team payments"),
    });
    const accepted = await acceptRisk(deps(), input({ target: { teamId: "payments" }, until: inDays(30) }));
    expect(accepted).toMatchObject({ teamId: "payments", imageId: null, severity: "critical" });
    expect((await auditRows()).at(-1)?.resource).toEqual({
      acceptanceId: accepted.id,
      vulnerabilityId: "CVE-2024-0002",
      team: "payments",
    });
  });

  it("uses the strictest maximum for a vulnerability not currently present, and says so", async () => {
    await expect(
      acceptRisk(deps(), input({ vulnerabilityId: "CVE-2023-9999", until: inDays(45) })),
    ).rejects.toMatchObject({
      code: "expiry_too_long",
      message: expect.stringMatching(/not currently present.*at most 30 days \(until 2025-07-01/),
    });
    const accepted = await acceptRisk(deps(), input({ vulnerabilityId: "CVE-2023-9999", until: inDays(14) }));
    expect(accepted).toMatchObject({ vulnerabilityId: "CVE-2023-9999", severity: null });
  });

  it.each([
    ["an empty id", { vulnerabilityId: "" }, "bad_vulnerability", "name the vulnerability"],
    ["a blank id", { vulnerabilityId: "   " }, "bad_vulnerability", "name the vulnerability"],
    ["a word", { vulnerabilityId: "openssl" }, "bad_vulnerability", "is not a vulnerability id"],
    [
      "an id with spaces",
      { vulnerabilityId: "CVE 2024 1" },
      "bad_vulnerability",
      "is not a vulnerability id",
    ],
    ["a very long id", { vulnerabilityId: `CVE-${"1".repeat(120)}` }, "bad_vulnerability", "too long"],
    ["a short reason", { reason: "fine" }, "reason_required", "say why the risk is acceptable"],
    ["no reason", { reason: "   " }, "reason_required", "say why the risk is acceptable"],
    ["a past date", { until: inDays(-1) }, "bad_expiry", "must end in the future"],
    ["an invalid date", { until: new Date("nope") }, "bad_expiry", "not a valid date"],
  ] as const)("refuses %s", async (_label, overrides, code, said) => {
    await expect(
      acceptRisk(deps(), input({ vulnerabilityId: "CVE-2024-0005", ...overrides })),
    ).rejects.toMatchObject({
      kind: "user",
      code,
      status: 400,
      message: expect.stringContaining(said),
    });
  });

  it("refuses an unknown image with a suggestion, and an unknown team with the list", async () => {
    await expect(
      acceptRisk(deps(), input({ target: { imageRef: "ghcr.io/acme/apj" } })),
    ).rejects.toMatchObject({
      code: "unknown_image",
      status: 404,
      message: expect.stringContaining("Did you mean ghcr.io/acme/api?"),
    });
    await expect(acceptRisk(deps(), input({ target: { imageRef: "Not An Image!" } }))).rejects.toMatchObject({
      code: "unknown_image",
      status: 404,
    });
    await expect(acceptRisk(deps(), input({ target: { teamId: "payment" } }))).rejects.toMatchObject({
      code: "unknown_team",
      status: 404,
      message: 'unknown team "payment" (known: payments, search)',
    });
  });

  it("lets exactly one of several simultaneous acceptances through", async () => {
    const attempts = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) =>
        acceptRisk(
          deps(),
          input({ vulnerabilityId: "CVE-2024-0005", target: { imageRef: "worker" }, actor: { id: `U${n}` } }),
        ),
      ),
    );
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(1);
    const refusals = attempts.flatMap((a) => (a.status === "rejected" ? [a.reason] : []));
    expect(refusals).toHaveLength(4);
    for (const r of refusals) expect(r).toMatchObject({ code: "already_accepted" });
  });
});

describe("revokeAcceptance", () => {
  it("ends an acceptance now, audits it, and then allows a new one", async () => {
    const first = await acceptRisk(
      deps(),
      input({ vulnerabilityId: "CVE-2024-0004", target: { imageRef: "api" } }),
    );
    const revoked = await revokeAcceptance(
      { db: app.db, now: () => NOW },
      { id: first.id, actor: { id: "U0LEAD", name: "Lead" }, origin: slackOrigin, reason: "the VPN is gone" },
    );
    expect(revoked.revokedAt).toEqual(NOW);
    expect((await auditRows()).at(-1)).toMatchObject({
      actorId: "U0LEAD",
      action: "risk.revoked",
      outcome: "ok",
      origin: slackOrigin,
      resource: { acceptanceId: first.id, vulnerabilityId: "CVE-2024-0004", image: "ghcr.io/acme/api" },
      payload: { reason: "the VPN is gone" },
    });
    const again = await acceptRisk(
      deps(),
      input({ vulnerabilityId: "CVE-2024-0004", target: { imageRef: "api" } }),
    );
    expect(again.id).not.toBe(first.id);

    await expect(
      revokeAcceptance(
        { db: app.db, now: () => NOW },
        { id: first.id, actor: maria, origin: {}, reason: "again" },
      ),
    ).rejects.toMatchObject({ code: "already_revoked", status: 409 });
  });

  it("refreshes the App Home of the team an acceptance or its revocation concerns", async () => {
    const refreshes = async () =>
      (
        await app.db.execute(
          sql`SELECT payload->>'teamId' AS team, available_at FROM outbox WHERE kind = 'home.refresh' ORDER BY id`,
        )
      ).rows;
    await app.db.execute(sql`DELETE FROM outbox WHERE kind = 'home.refresh'`);
    // An image's acceptance: the image's owner (api belongs to payments).
    const at = new Date("2025-06-02T08:00:00Z");
    const first = await acceptRisk(
      { ...deps(), now: () => at },
      input({ vulnerabilityId: "CVE-2024-0003", target: { imageRef: "api" } }),
    );
    expect((await refreshes()).map((r) => r.team)).toEqual(["payments"]);
    // Its revocation a minute later: another refresh, after that window.
    const later = new Date(at.getTime() + 60_000);
    await revokeAcceptance(
      { db: app.db, now: () => later },
      { id: first.id, actor: maria, origin: slackOrigin, reason: "the VPN is gone" },
    );
    const rows = await refreshes();
    expect(rows.map((r) => r.team)).toEqual(["payments", "payments"]);
    expect(new Date(String(rows[1]?.available_at)).getTime()).toBeGreaterThan(later.getTime());
  });

  it("refuses an unknown or malformed id", async () => {
    const revoke = (id: string) =>
      revokeAcceptance({ db: app.db, now: () => NOW }, { id, actor: maria, origin: {}, reason: "cleanup" });
    await expect(revoke("00000000-0000-0000-0000-000000000000")).rejects.toMatchObject({
      code: "unknown_acceptance",
      status: 404,
    });
    await expect(revoke("42")).rejects.toMatchObject({ code: "bad_acceptance_id", status: 400 });
  });
});
