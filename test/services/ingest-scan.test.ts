import { readFile } from "node:fs/promises";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { PatchpilotError } from "../../src/core/errors.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { DEFAULT_SLA_POLICY } from "../../src/core/sla/sla-policy.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { verifyAuditTrail } from "../../src/services/audit/verify-audit-trail.js";
import { type IngestInput, ingestScan, parseReportOrThrow } from "../../src/services/ingest-scan.js";
import { imagePosture } from "../../src/services/posture/image-posture.js";
import { meanTimeToRemediate } from "../../src/services/posture/mean-time-to-remediate.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import {
  digestOf,
  grypeReport,
  type SyntheticVuln,
  syntheticVulns,
  trivyReport,
} from "../support/report-builders.js";

let database: TestDatabase;
let app: Database;
let clock = new Date("2026-11-01T00:00:00Z");
const now = () => clock;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  const example = await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8");
  const parsed = parseConfigText(example);
  if (!parsed.ok) throw new Error("example config invalid");
  await syncConfig(app.db, parsed.config, (r) => normalizeImageRef(r).repository);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

/** Parses then ingests, as the upload route does; a refused report rejects like a failed ingest. */
async function ingest(doc: unknown, over: Partial<IngestInput> = {}) {
  return ingestScan(
    { db: app.db, now },
    {
      report: parseReportOrThrow(doc),
      uploaderTeam: "payments",
      actor: { id: "token:test", name: "ci" },
      origin: { source: "test" },
      ...over,
    },
  );
}

async function count(table: "scans" | "findings" | "audit_events" | "outbox"): Promise<number> {
  // Outbox: the new-findings notifications (every owned scan also queues a Home refresh).
  const where = table === "outbox" ? " WHERE kind = 'notify.new-findings'" : "";
  const r = await app.pool.query(`SELECT count(*)::int AS n FROM ${table}${where}`);
  return r.rows[0].n;
}

async function lifecycle(image: string, vuln: string) {
  const r = await app.db.execute(sql`
    SELECT l.first_seen_at, l.fixed_at FROM finding_lifecycle l JOIN images i ON i.id = l.image_id
    WHERE i.repository = ${image} AND l.vulnerability_id = ${vuln}`);
  const row = r.rows[0];
  return row
    ? {
        first_seen_at: new Date(String(row.first_seen_at)),
        fixed_at: row.fixed_at ? new Date(String(row.fixed_at)) : null,
      }
    : undefined;
}

async function imageIdOf(repository: string): Promise<string> {
  const r = await app.db.execute(sql`SELECT id FROM images WHERE repository = ${repository}`);
  return String(r.rows[0]?.id);
}

const v = (
  id: string,
  severity: SyntheticVuln["severity"],
  fixed?: string,
  pkg = "openssl",
): SyntheticVuln => ({
  id,
  pkg,
  severity,
  version: "3.0.1",
  ...(fixed ? { fixed } : {}),
});

describe("ingestScan", () => {
  const image = "ghcr.io/acme/payments-api";

  it("stores a scan, its findings and an audit event, then answers a re-upload with the same scan", async () => {
    const doc = trivyReport({
      image: `${image}:1.0`,
      digest: digestOf(1),
      vulns: [
        v("CVE-2026-0001", "CRITICAL", "3.0.2"),
        v("CVE-2026-0002", "HIGH"),
        v("CVE-2026-0003", "LOW", "3.0.9", "zlib"),
      ],
    });
    const first = await ingest(doc);
    expect(first).toMatchObject({
      image,
      digest: digestOf(1),
      team: "payments",
      format: "trivy",
      findings: 3,
      created: true,
    });
    expect(first.diff).toMatchObject({
      new: 3,
      fixed: 0,
      unchanged: 0,
      newBySeverity: { critical: 1, high: 1, low: 1 },
    });

    const scansBefore = await count("scans");
    const again = await ingest(JSON.parse(JSON.stringify(doc)));
    expect(again).toMatchObject({ scanId: first.scanId, created: false, findings: 3 });
    expect(await count("scans")).toBe(scansBefore);
    expect((await verifyAuditTrail(app.db)).ok).toBe(true);
  });

  it("diffs against the previous scan, keeps first-seen across rebuilds and records fixed-at", async () => {
    const firstSeen = await lifecycle(image, "CVE-2026-0002");
    clock = new Date("2026-11-08T00:00:00Z");
    const doc = trivyReport({
      image: `${image}:1.1`,
      digest: digestOf(2),
      // 0001 fixed by the rebuild; 0002 still there (another version); 0004 is new and critical.
      vulns: [
        { ...v("CVE-2026-0002", "HIGH"), version: "3.0.5" },
        v("CVE-2026-0003", "LOW", "3.0.9", "zlib"),
        v("CVE-2026-0004", "CRITICAL", "3.0.7"),
      ],
    });
    const r = await ingest(doc);
    expect(r.diff).toMatchObject({
      new: 1,
      fixed: 1,
      unchanged: 2,
      newBySeverity: { critical: 1 },
      fixedBySeverity: { critical: 1 },
    });
    expect((await lifecycle(image, "CVE-2026-0002"))?.first_seen_at).toEqual(firstSeen?.first_seen_at);
    expect((await lifecycle(image, "CVE-2026-0001"))?.fixed_at).toEqual(clock);
    expect((await lifecycle(image, "CVE-2026-0004"))?.first_seen_at).toEqual(clock);

    // What people see: the high's 30-day clock still runs from Nov 1 (due Dec 1, so due within a
    // week on Nov 26; from the rebuild it would be Dec 8) after the new critical (breached), and the critical fixed after 7 days
    // counts as a critical fix of 7 days in mean time to remediate.
    const imageId = await imageIdOf(image);
    const status = await imagePosture(app.db, {
      imageId,
      now: new Date("2026-11-26T00:00:00Z"),
      sla: DEFAULT_SLA_POLICY,
    });
    expect(status?.urgent.map((u) => [u.vulnerabilityId, u.dueAt])).toEqual([
      ["CVE-2026-0004", new Date("2026-11-15T00:00:00Z")],
      ["CVE-2026-0002", new Date("2026-12-01T00:00:00Z")],
    ]);
    const mttr = await meanTimeToRemediate(app.db, {
      teamId: "payments",
      from: new Date("2026-11-01T00:00:00Z"),
      to: new Date("2026-11-09T00:00:00Z"),
    });
    expect(mttr.fixed).toMatchObject({ critical: 1, high: 0, low: 0 });
    expect(mttr.meanMs.critical).toBe(7 * 24 * 3_600_000);
  });

  it("queues one notification when a scan brings a new fixable critical or known-exploited finding", async () => {
    const intents = await app.db.execute(
      sql`SELECT kind, dedupe_key, payload, to_char(available_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS available_at FROM outbox WHERE kind = 'notify.new-findings' ORDER BY id`,
    );
    // Scan 1 brought CVE-2026-0001 (critical, fixable); scan 2, a week later, CVE-2026-0004:
    // one intent per team and (default 2-minute) window, delivered when the window closes.
    expect(intents.rows).toEqual([
      {
        kind: "notify.new-findings",
        dedupe_key: "new-findings:payments:2026-11-01T00:00:00.000Z",
        payload: {
          teamId: "payments",
          windowStart: "2026-11-01T00:00:00.000Z",
          windowEnd: "2026-11-01T00:02:00.000Z",
        },
        available_at: "2026-11-01T00:02:00Z",
      },
      {
        kind: "notify.new-findings",
        dedupe_key: "new-findings:payments:2026-11-08T00:00:00.000Z",
        payload: {
          teamId: "payments",
          windowStart: "2026-11-08T00:00:00.000Z",
          windowEnd: "2026-11-08T00:02:00.000Z",
        },
        available_at: "2026-11-08T00:02:00Z",
      },
    ]);
    const unfixable = trivyReport({
      image: `${image}:1.2`,
      digest: digestOf(3),
      vulns: [v("CVE-2026-0005", "CRITICAL")],
    });
    await ingest(unfixable);
    expect(await count("outbox")).toBe(2);
  });

  it("lets another image of the team scanned in the same window share its notification", async () => {
    clock = new Date("2026-11-08T00:01:30Z");
    const ledger = "ghcr.io/acme/ledger-worker:2.0";
    await ingest(
      trivyReport({ image: ledger, digest: digestOf(4), vulns: [v("CVE-2026-0004", "CRITICAL", "3.0.7")] }),
    );
    expect(await count("outbox")).toBe(2);
    // The window is [00:00, 00:02): a scan at 00:02 opens the next one.
    clock = new Date("2026-11-08T00:02:00Z");
    await ingest(
      trivyReport({ image: ledger, digest: digestOf(5), vulns: [v("CVE-2026-0006", "CRITICAL", "1.0")] }),
    );
    expect(await count("outbox")).toBe(3);
  });

  it("keeps a report for an image no config names, as unowned", async () => {
    const r = await ingest(
      grypeReport({
        image: "docker.io/library/nginx:1.27",
        digest: digestOf(9),
        vulns: [v("CVE-2026-0100", "CRITICAL", "1.1")],
      }),
      {
        uploaderTeam: "search",
      },
    );
    expect(r).toMatchObject({ image: "docker.io/library/nginx", team: null, format: "grype", findings: 1 });
    // Unowned images alert nobody (no channel), but the finding is kept.
    expect(await count("outbox")).toBe(3);
  });

  it.each([
    ["another team's token", { uploaderTeam: "search" }, "forbidden_image", 403, "owned by team payments"],
    [
      "a digest that contradicts the report",
      { digest: digestOf(77) },
      "digest_mismatch",
      422,
      "the report is for",
    ],
    ["a malformed digest", { digest: "sha256:xyz" }, "bad_digest", 400, "not an image digest"],
  ])("refuses %s and stores nothing", async (_what, over, code, status, message) => {
    const before = [await count("scans"), await count("findings"), await count("audit_events")];
    const doc = trivyReport({
      image: `${image}:2.0`,
      digest: digestOf(4),
      vulns: [v("CVE-2026-0200", "HIGH")],
    });
    const err = await ingest(doc, over).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PatchpilotError);
    expect(err).toMatchObject({ code, status });
    expect((err as Error).message).toContain(message);
    expect([await count("scans"), await count("findings"), await count("audit_events")]).toEqual(before);
  });

  it("asks for the image and digest when the report names neither", async () => {
    const doc = trivyReport({ image: "x", vulns: [v("CVE-2026-0300", "LOW")] });
    delete doc.ArtifactName;
    doc.Metadata = { OS: { Family: "debian", Name: "12.8" } };
    await expect(ingest(doc)).rejects.toThrow(/pass \?image=REPOSITORY/);
    await expect(ingest(doc, { imageRef: "ghcr.io/acme/ledger-worker" })).rejects.toThrow(
      /pass \?digest=sha256/,
    );
    const ok = await ingest(doc, { imageRef: "ghcr.io/acme/ledger-worker", digest: digestOf(5) });
    expect(ok).toMatchObject({ image: "ghcr.io/acme/ledger-worker", team: "payments", findings: 1 });
  });

  it("stores text with NUL characters instead of failing", async () => {
    const doc = trivyReport({
      image: `${image}:nul`,
      digest: digestOf(6),
      vulns: [v("CVE-2026-0400", "LOW", undefined, "lib\u0000nul")],
    });
    const r = await ingest(doc);
    expect(r.findings).toBe(1);
    const stored = await app.db.execute(
      sql`SELECT package_name FROM findings WHERE vulnerability_id = 'CVE-2026-0400'`,
    );
    expect(stored.rows[0]).toEqual({ package_name: "libnul" });
  });

  it("keeps one lifecycle per key at its worst severity across a report larger than one statement", async () => {
    const big = "ghcr.io/acme/big-report";
    // The same vulnerability of one package at two paths, 5,000 findings apart: critical, then low.
    const twice = (path: string, severity: SyntheticVuln["severity"]) => ({
      ...v("CVE-2026-7777", severity, undefined, "libbig"),
      path,
    });
    const last = twice("/b", "LOW");
    const vulns = [twice("/a", "CRITICAL"), ...syntheticVulns(4_999), last];
    const first = await ingest(trivyReport({ image: `${big}:1`, digest: digestOf(7_001), vulns }));
    expect(first.findings).toBe(5_001);
    const row = await app.pool.query(
      `SELECT l.severity, l.first_seen_at FROM finding_lifecycle l JOIN images i ON i.id = l.image_id
       WHERE i.repository = $1 AND l.vulnerability_id = 'CVE-2026-7777'`,
      [big],
    );
    expect(row.rows).toEqual([{ severity: "critical", first_seen_at: clock }]);
    // Every finding carries its first sighting: 5,001 rows, none without.
    const unset = await app.pool.query(
      "SELECT count(*)::int AS n FROM findings WHERE scan_id = $1 AND first_seen_at IS DISTINCT FROM $2",
      [first.scanId, clock],
    );
    expect(unset.rows[0].n).toBe(0);

    // A rebuild a day later without 4,000 of them: those are fixed, the rest keep their first sighting.
    const rebuiltAt = new Date(clock.getTime() + 86_400_000);
    const firstAt = clock;
    clock = rebuiltAt;
    const rebuilt = await ingest(
      trivyReport({
        image: `${big}:2`,
        digest: digestOf(7_002),
        vulns: [...vulns.slice(0, 1_000), last],
      }),
    );
    expect(rebuilt.diff).toMatchObject({ fixed: 4_000 });
    const after = await app.pool.query(
      `SELECT count(*) FILTER (WHERE f.first_seen_at = $2)::int AS kept, count(*)::int AS n
       FROM findings f WHERE f.scan_id = $1`,
      [rebuilt.scanId, firstAt],
    );
    expect(after.rows[0]).toEqual({ kept: 1_001, n: 1_001 });
    const fixed = await app.pool.query(
      `SELECT count(*)::int AS n FROM finding_lifecycle l JOIN images i ON i.id = l.image_id
       WHERE i.repository = $1 AND l.fixed_at = $2`,
      [big, rebuiltAt],
    );
    expect(fixed.rows[0].n).toBe(4_000);
  });

  it("never stores part of a broken report (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (junk) => {
        const before = await count("scans");
        try {
          await ingest(junk, { imageRef: image, digest: digestOf(8) });
        } catch (e) {
          expect(e).toBeInstanceOf(PatchpilotError);
          expect(await count("scans")).toBe(before);
        }
      }),
      { numRuns: 60 },
    );
  });
});
