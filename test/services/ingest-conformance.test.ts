import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PatchpilotError } from "../../src/core/errors.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { ingestScan, parseReportOrThrow } from "../../src/services/ingest-scan.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import {
  expectedCount,
  filesIn,
  fixtures,
  folders,
  isRefused,
  load,
  relative,
} from "../support/fixture-finding-counts.js";
import { digestOf } from "../support/report-builders.js";

/**
 * Every recorded report in ../shared/fixtures through the whole ingestion (parser, database,
 * diff): the findings stored must equal the count taken from the raw JSON.
 */
let database: TestDatabase;
let app: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 2 });
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const now = () => new Date("2026-11-24T12:00:00Z");
let n = 0;

async function ingestFixture(path: string) {
  const doc = load(path);
  const input = {
    imageRef: `fixtures.example/${basename(path, ".json")
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, "-")}`,
    uploaderTeam: null,
    actor: { id: "test" },
    origin: { source: "conformance" },
  };
  const report = parseReportOrThrow(doc);
  try {
    return await ingestScan({ db: app.db, now }, { ...input, report });
  } catch (e) {
    // Reports of directories and SBOMs name no digest: the uploader supplies one, as CI would.
    if (e instanceof PatchpilotError && e.code === "digest_required") {
      return ingestScan({ db: app.db, now }, { ...input, report, digest: digestOf(++n) });
    }
    throw e;
  }
}

for (const folder of folders) {
  const dir = join(fixtures, folder);
  if (!existsSync(dir)) console.warn(`ingest conformance: ${dir} is absent, skipping the ${folder} fixtures`);
  describe.skipIf(!existsSync(dir))(`ingesting the ${folder} fixtures`, () => {
    const files = existsSync(dir) ? filesIn(dir) : [];

    it.each(files.filter((f) => !isRefused(f)).map((f) => [relative(f), f]))(
      "%s stores every finding",
      async (_n, path) => {
        const r = await ingestFixture(path);
        const expected = expectedCount(path, load(path));
        expect(r.findings).toBe(expected);
        const stored = await app.pool.query("SELECT count(*)::int AS n FROM findings WHERE scan_id = $1", [
          r.scanId,
        ]);
        expect(stored.rows[0].n).toBe(expected);
      },
    );

    it.each(files.filter(isRefused).map((f) => [relative(f), f]))(
      "%s is refused with the documented message",
      async (_n, path) => {
        const err = await ingestFixture(path).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PatchpilotError);
        expect(err).toMatchObject({ code: "unsupported_format", status: 422 });
        expect((err as Error).message).toContain("trivy image -f json");
      },
    );
  });
}
