import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFileSchema } from "../../../src/config/file-schema.js";
import { createDatabase, type Database } from "../../../src/db/client.js";
import { auditEvents, images, outbox, riskAcceptances } from "../../../src/db/schema/index.js";
import { expireAcceptances } from "../../../src/jobs/handlers/expire-acceptances.js";
import { warnExpiringAcceptances } from "../../../src/jobs/handlers/warn-expiring-acceptances.js";
import { acceptRisk } from "../../../src/services/risk/accept-risk.js";
import {
  acceptanceNoticePayload,
  acceptanceNotices,
} from "../../../src/services/risk/expired-acceptance-notice.js";
import { revokeAcceptance } from "../../../src/services/risk/revoke-acceptance.js";
import { isAcceptanceValid } from "../../../src/services/risk/valid-acceptance.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import { seedRiskFleet } from "./seed-risk-fleet.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const DAY = 24 * 3600 * 1000;
const inDays = (n: number) => new Date(NOW.getTime() + n * DAY);
const config = configFileSchema.parse({ version: 1, teams: [{ id: "payments", channel: "C0PAYMENTS" }] });

let database: TestDatabase;
let app: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  await seedRiskFleet(app.db);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const accept = (vulnerabilityId: string, days: number) =>
  acceptRisk(
    { db: app.db, config, now: () => NOW },
    {
      vulnerabilityId,
      target: { imageRef: "ghcr.io/acme/api" },
      until: inDays(days),
      reason: "behind the admin VPN until the Q3 rebuild",
      actor: { id: "U0MARIA", name: "Maria" },
      source: "cli",
      origin: { source: "cli" },
    },
  );

describe("expire-acceptances job", () => {
  it("records each expiry once, with one notification intent, however often it runs", async () => {
    const soon = await accept("CVE-2024-0002", 10);
    const later = await accept("CVE-2024-0003", 20);
    const withdrawn = await accept("CVE-2024-0004", 5);
    await revokeAcceptance(
      { db: app.db, now: () => inDays(1) },
      { id: withdrawn.id, actor: { id: "U0LEAD" }, origin: { source: "cli" }, reason: "fixed upstream" },
    );

    const job = expireAcceptances({ db: app.db, now: () => inDays(15) });
    // Workers overlapping on the same due acceptance, then a later run: still one expiry.
    await Promise.all([job(), job(), job(), job(), job()]);
    await job();

    const all = await app.db.select().from(outbox);
    // The expiry also refreshes the team's App Home tabs (their open counts just grew).
    const refreshes = all.filter((i) => i.kind === "home.refresh" && i.availableAt > inDays(15));
    expect(refreshes.map((i) => i.payload)).toEqual([{ teamId: "payments" }]);
    const intents = all.filter((i) => i.kind !== "home.refresh");
    expect(intents).toEqual([
      expect.objectContaining({
        kind: "notify.acceptance-expired",
        dedupeKey: expect.stringMatching(/^notify\.acceptance-expired:[0-9a-f]{24}$/),
        payload: { acceptanceIds: [soon.id] },
        status: "pending",
      }),
    ]);
    const [intent] = intents;
    const notices = intent
      ? await acceptanceNotices(app.db, acceptanceNoticePayload.parse(intent.payload).acceptanceIds)
      : [];
    expect(notices).toEqual([
      {
        channel: "C0PAYMENTS",
        teamId: "payments",
        vulnerabilityId: "CVE-2024-0002",
        image: "ghcr.io/acme/api",
        acceptedBy: "U0MARIA",
        acceptedByName: "Maria",
        reason: "behind the admin VPN until the Q3 rebuild",
        expiredAt: inDays(10),
      },
    ]);
    const audits = await app.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "risk.acceptance_expired"))
      .orderBy(asc(auditEvents.seq));
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      at: inDays(15),
      actorId: "system",
      actorName: "patchpilot",
      outcome: "ok",
      origin: { source: "system", job: "expire-acceptances" },
      resource: {
        acceptanceId: soon.id,
        vulnerabilityId: "CVE-2024-0002",
        image: "ghcr.io/acme/api",
      },
      payload: { expiresAt: inDays(10).toISOString(), acceptedBy: "U0MARIA" },
    });

    const rows = await app.db.select().from(riskAcceptances).orderBy(asc(riskAcceptances.createdAt));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(soon.id)?.expiryNotifiedAt).toEqual(inDays(15));
    expect(byId.get(later.id)?.expiryNotifiedAt).toBeNull();
    expect(byId.get(withdrawn.id)?.expiryNotifiedAt).toBeNull();
    const expired = byId.get(soon.id);
    expect(expired && isAcceptanceValid(expired, inDays(15))).toBe(false);
    const stillValid = byId.get(later.id);
    expect(stillValid && isAcceptanceValid(stillValid, inDays(15))).toBe(true);
  });

  it("lets the vulnerability be accepted again once the acceptance has expired", async () => {
    const renewed = await acceptRisk(
      { db: app.db, config, now: () => inDays(15) },
      {
        vulnerabilityId: "CVE-2024-0002",
        target: { imageRef: "api" },
        until: inDays(40),
        reason: "renewed after review: still behind the admin VPN",
        actor: { id: "U0MARIA" },
        source: "slack",
        origin: { source: "slack", channel: "C0PAYMENTS" },
      },
    );
    expect(renewed.expiresAt).toEqual(inDays(40));
  });

  it("skips an acceptance another worker holds instead of waiting, and expires it on a later run", async () => {
    const held = await accept("CVE-2024-0001", 20);
    const job = expireAcceptances({ db: app.db, now: () => inDays(25) });
    const other = await app.pool.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT id FROM risk_acceptances WHERE id = $1 FOR UPDATE", [held.id]);
      await job();
      expect(await noticesOf(held.id)).toEqual([]);
      await other.query("ROLLBACK");
    } finally {
      other.release();
    }
    await job();
    expect(await noticesOf(held.id)).toHaveLength(1);
  });

  it("tells the team once about every acceptance that expired in one run, not once each", async () => {
    const ids = ["CVE-2025-0103", "CVE-2025-0104", "CVE-2025-0105"];
    const accepted = await stored(ids.map((id, i) => [id, inDays(30 + i)]));
    await expireAcceptances({ db: app.db, now: () => inDays(40) })();
    const notices = await app.db.select().from(outbox).where(eq(outbox.kind, "notify.acceptance-expired"));
    const thisRun = notices.filter((n) =>
      acceptanceNoticePayload.parse(n.payload).acceptanceIds.includes(accepted[0]?.id ?? ""),
    );
    // One intent for the run, naming all three (and any other acceptance that expired in it).
    expect(thisRun).toHaveLength(1);
    const named = acceptanceNoticePayload.parse(thisRun[0]?.payload).acceptanceIds;
    expect(named).toEqual(expect.arrayContaining(accepted.map((a) => a.id)));
    const told = await acceptanceNotices(
      app.db,
      accepted.map((a) => a.id),
    );
    // Soonest expiry first, each still saying what it was and why.
    expect(told.map((n) => [n.vulnerabilityId, n.channel])).toEqual(ids.map((id) => [id, "C0PAYMENTS"]));
  });

  it("warns each team once, ahead of time, about all acceptances expiring soon", async () => {
    const soon = await stored([
      ["CVE-2025-0106", inDays(50)],
      ["CVE-2025-0107", inDays(51)],
    ]);
    const warn = warnExpiringAcceptances({ db: app.db, now: () => inDays(48.5) });
    await warn();
    await warn();
    const warnings = await app.db.select().from(outbox).where(eq(outbox.kind, "notify.acceptance-expiring"));
    expect(warnings.map((w) => acceptanceNoticePayload.parse(w.payload).acceptanceIds)).toEqual([
      soon.map((a) => a.id).sort(),
    ]);
  });
});

/** Acceptances of api stored as they are (the dates and ids acceptRisk would refuse today). */
async function stored(list: Array<[string, Date]>) {
  const [api] = await app.db.select().from(images).where(eq(images.repository, "ghcr.io/acme/api"));
  return app.db
    .insert(riskAcceptances)
    .values(
      list.map(([vulnerabilityId, expiresAt]) => ({
        vulnerabilityId,
        imageId: api?.id ?? null,
        source: "cli",
        status: "accepted",
        reason: "behind the admin VPN until the Q3 rebuild",
        acceptedBy: "U0MARIA",
        createdAt: NOW,
        expiresAt,
      })),
    )
    .returning();
}

/** The expiry notice intents that name this acceptance. */
async function noticesOf(acceptanceId: string) {
  const rows = await app.db.select().from(outbox).where(eq(outbox.kind, "notify.acceptance-expired"));
  return rows.filter((r) => acceptanceNoticePayload.parse(r.payload).acceptanceIds.includes(acceptanceId));
}
