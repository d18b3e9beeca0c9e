import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PatchpilotConfig } from "../../src/config/file-schema.js";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { acceptanceState } from "../../src/core/digest/acceptance-state.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { renderHistory } from "../../src/render/render-history.js";
import { historyView } from "../../src/services/history-view.js";
import { ingestScan, parseReportOrThrow } from "../../src/services/ingest-scan.js";
import { acceptRisk } from "../../src/services/risk/accept-risk.js";
import { revokeAcceptance } from "../../src/services/risk/revoke-acceptance.js";
import { resolveStatusTarget } from "../../src/services/status-views.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { digestOf, trivyReport } from "../support/report-builders.js";

const DAY = 24 * 3600 * 1000;
const image = "ghcr.io/acme/payments-api";
let database: TestDatabase;
let app: Database;
let config: PatchpilotConfig;
let clock = new Date("2026-11-01T09:00:00Z");
const now = () => clock;
const at = (iso: string) => {
  clock = new Date(iso);
};

async function ingest(n: number, vulns: Parameters<typeof trivyReport>[0]["vulns"]) {
  return ingestScan(
    { db: app.db, now },
    {
      report: parseReportOrThrow(trivyReport({ image: `${image}:1.${n}`, digest: digestOf(n), vulns })),
      uploaderTeam: "payments",
      actor: { id: "token:test", name: "ci" },
      origin: { source: "test" },
    },
  );
}

const accept = (vulnerabilityId: string, days: number, reason: string) =>
  acceptRisk(
    { db: app.db, config, now },
    {
      vulnerabilityId,
      target: { imageRef: image },
      until: new Date(clock.getTime() + days * DAY),
      reason,
      actor: { id: "U0MARIA", name: "Maria" },
      source: "cli",
      origin: { source: "cli" },
    },
  );

async function imageId(): Promise<string> {
  const t = await resolveStatusTarget(app.db, "payments-api", ["payments", "search"]);
  if (t.kind !== "image") throw new Error("payments-api not found");
  return t.imageId;
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  const parsed = parseConfigText(
    await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8"),
  );
  if (!parsed.ok) throw new Error("example config invalid");
  config = parsed.config;
  await syncConfig(app.db, config, (r) => normalizeImageRef(r).repository);

  at("2026-11-01T09:00:00Z");
  await ingest(1, [
    { id: "CVE-2026-0001", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.2" },
    { id: "CVE-2026-0002", pkg: "zlib", severity: "HIGH" },
    { id: "CVE-2026-0003", pkg: "curl", severity: "MEDIUM" },
  ]);
  await accept("CVE-2026-0003", 3, "only reachable from the admin network");
  await accept("CVE-2026-0002", 20, "no fix released by Debian yet");
  const revoked = await accept("CVE-2026-0001", 10, "waiting for the next base image");
  at("2026-11-08T09:00:00Z");
  // The rebuild fixes 0001 and brings in a new high.
  await ingest(2, [
    { id: "CVE-2026-0002", pkg: "zlib", severity: "HIGH" },
    { id: "CVE-2026-0003", pkg: "curl", severity: "MEDIUM" },
    { id: "CVE-2026-0004", pkg: "expat", severity: "HIGH", fixed: "2.6.4" },
  ]);
  await revokeAcceptance(
    { db: app.db, now },
    { id: revoked.id, actor: { id: "U0LEAD" }, origin: { source: "cli" }, reason: "fixed by the rebuild" },
  );
  at("2026-11-10T09:00:00Z");
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("historyView", () => {
  it("lists the image's scans newest first with what each found new and fixed", async () => {
    const h = await historyView(app.db, { imageId: await imageId(), now: clock });
    expect(h?.image.name).toBe("payments-api");
    expect(h?.scans.map((s) => s.digest)).toEqual([digestOf(2), digestOf(1)]);
    const [rebuild, first] = h?.scans ?? [];
    expect(rebuild?.newFindings).toMatchObject({ critical: 0, high: 1 });
    expect(rebuild?.fixedFindings).toMatchObject({ critical: 1, high: 0 });
    expect(first?.newFindings).toMatchObject({ critical: 1, high: 1, medium: 1 });
    expect(rebuild?.scanner).toMatch(/^trivy/);
    expect(h?.rollouts).toEqual([]);
  });

  it("keeps active, expired and revoked acceptances, each shown as such", async () => {
    const h = await historyView(app.db, { imageId: await imageId(), now: clock });
    if (!h) throw new Error("no history");
    const state = Object.fromEntries(
      h.acceptances.map((a) => [a.vulnerabilityId, acceptanceState(a, clock)]),
    );
    expect(state).toEqual({
      "CVE-2026-0001": "revoked",
      "CVE-2026-0002": "active",
      "CVE-2026-0003": "expired",
    });
    const text = JSON.stringify(renderHistory(h).blocks);
    expect(text).toMatch(/CVE-2026-0002[^•]*until/);
    expect(text).toMatch(/CVE-2026-0003[^•]*expired/);
    expect(text).toMatch(/CVE-2026-0001[^•]*revoked/);
    expect(renderHistory(h).text).toContain("2 scans, 0 patches shipped, 3 accepted risks (1 active)");
  });

  it("answers null for an image it does not know", async () => {
    expect(
      await historyView(app.db, { imageId: "00000000-0000-0000-0000-000000000000", now: clock }),
    ).toBeNull();
  });
});
