import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, runMigrations } from "../../src/db/migrate.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

/**
 * A database that ran up to 0007 with findings in it is upgraded: 0008 copies each latest-scan
 * finding's first sighting onto it and gives every lifecycle row the severity it last had, so
 * SLA clocks and mean time to remediate read the same after the upgrade as before it.
 */
let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
  const upTo0007 = await mkdtemp(join(tmpdir(), "pp-migrations-0007-"));
  await cp(MIGRATIONS_DIR, upTo0007, { recursive: true });
  const journal = JSON.parse(await readFile(join(upTo0007, "meta/_journal.json"), "utf8"));
  journal.entries = journal.entries.filter((e: { idx: number }) => e.idx <= 7);
  await writeFile(join(upTo0007, "meta/_journal.json"), JSON.stringify(journal));
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await migrate(drizzle(client), { migrationsFolder: upTo0007 });
  // One image, scanned on day 0 (openssl high, curl medium) and day 10 (openssl critical, curl
  // fixed), as ingest before 0008 left it.
  await client.query(`
    INSERT INTO images (id, repository) VALUES ('00000000-0000-0000-0000-000000000001', 'ghcr.io/acme/api');
    INSERT INTO scans (id, image_id, digest, format, scanner_name, content_hash, received_at, finding_count, diff)
    VALUES ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-000000000001', 'sha256:a', 'trivy',
        'trivy', 'a', '2026-11-01T00:00:00Z', 2, '{}'),
      ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-000000000001', 'sha256:b', 'trivy',
        'trivy', 'b', '2026-11-11T00:00:00Z', 1, '{}');
    INSERT INTO findings (scan_id, fingerprint, vulnerability_id, package_name, fix_state, severity) VALUES
      ('00000000-0000-0000-0000-00000000000a', 'f1', 'CVE-1', 'openssl', 'fixed', 'high'),
      ('00000000-0000-0000-0000-00000000000a', 'f2', 'CVE-2', 'curl', 'fixed', 'medium'),
      ('00000000-0000-0000-0000-00000000000b', 'f3', 'CVE-1', 'openssl', 'fixed', 'critical');
    UPDATE images SET latest_scan_id = '00000000-0000-0000-0000-00000000000b', latest_digest = 'sha256:b',
      latest_scan_at = '2026-11-11T00:00:00Z';
    INSERT INTO finding_lifecycle (image_id, vulnerability_id, package_name, first_seen_at, last_seen_at, fixed_at)
    VALUES ('00000000-0000-0000-0000-000000000001', 'CVE-1', 'openssl', '2026-11-01T00:00:00Z',
        '2026-11-11T00:00:00Z', NULL),
      ('00000000-0000-0000-0000-000000000001', 'CVE-2', 'curl', '2026-11-01T00:00:00Z',
        '2026-11-01T00:00:00Z', '2026-11-11T00:00:00Z');`);
  await runMigrations(db.url);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe("migration 0008 on a database with findings", () => {
  it("copies the first sighting onto the latest scan's findings only", async () => {
    const r = await client.query(`SELECT fingerprint, first_seen_at FROM findings ORDER BY fingerprint`);
    expect(r.rows).toEqual([
      { fingerprint: "f1", first_seen_at: null },
      { fingerprint: "f2", first_seen_at: null },
      { fingerprint: "f3", first_seen_at: new Date("2026-11-01T00:00:00Z") },
    ]);
  });

  it("gives each lifecycle row the severity of the last scan that showed it, fixed ones included", async () => {
    const r = await client.query(
      "SELECT vulnerability_id, severity FROM finding_lifecycle ORDER BY vulnerability_id",
    );
    expect(r.rows).toEqual([
      { vulnerability_id: "CVE-1", severity: "critical" },
      { vulnerability_id: "CVE-2", severity: "medium" },
    ]);
  });
});
