import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { authenticateToken } from "../../src/services/upload-tokens.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { digestOf, trivyReport } from "../support/report-builders.js";
import { writeTestConfig } from "../support/test-app.js";

let database: TestDatabase;
let app: Database;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 2 });
  const example = await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8");
  const parsed = parseConfigText(example);
  if (!parsed.ok) throw new Error("bad example");
  await syncConfig(app.db, parsed.config, (r) => normalizeImageRef(r).repository);
  env = { DATABASE_URL: database.url, PATCHPILOT_CONFIG: await writeTestConfig() };
  dir = await mkdtemp(join(tmpdir(), "pp-cli-"));
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s) }, env);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("patchpilot token", () => {
  it("prints a new token alone on stdout, once, and stores only its hash", async () => {
    const r = await cli(["token", "create", "--team", "payments", "--name", "payments CI"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ppt_[A-Za-z0-9_-]{43}$/);
    expect(r.err).toContain("shown once");
    const stored = await app.pool.query("SELECT token_hash FROM upload_tokens");
    expect(JSON.stringify(stored.rows)).not.toContain(r.out);
    expect(await authenticateToken(app.db, r.out, new Date())).toMatchObject({
      teamId: "payments",
      scopes: ["upload"],
    });
  });

  it("revokes a token so it no longer authenticates", async () => {
    const created = await cli(["token", "create", "--team", "search"]);
    const id = created.err.match(/token ([0-9a-f-]{36})/)?.[1];
    expect(id).toBeDefined();
    expect((await cli(["token", "revoke", id ?? ""])).code).toBe(0);
    expect(await authenticateToken(app.db, created.out, new Date())).toBeNull();
    expect((await cli(["token", "revoke", id ?? ""])).err).toContain("No active token");
  });

  it("explains mistakes", async () => {
    expect(await cli(["token", "create", "--team", "paymnts"])).toMatchObject({
      code: 1,
      err: expect.stringContaining('unknown team "paymnts" (known: payments, search)'),
    });
    expect((await cli(["token", "create"])).code).toBe(2);
    expect((await cli(["token", "create", "--colour", "red"])).code).toBe(2);
  });
});

describe("patchpilot ingest", () => {
  it("prints the same JSON answer as the API, and says so when nothing changed", async () => {
    const file = join(dir, "report.json");
    await writeFile(
      file,
      JSON.stringify(
        trivyReport({
          image: "ghcr.io/acme/search-api:3",
          digest: digestOf(42),
          vulns: [{ id: "CVE-2026-7", pkg: "zlib", severity: "HIGH" }],
        }),
      ),
    );
    const first = await cli(["ingest", file, "--team", "search"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({
      image: "ghcr.io/acme/search-api",
      digest: digestOf(42),
      team: "search",
      findings: 1,
      diff: { new: 1 },
    });
    const second = await cli(["ingest", file]);
    expect(second.code).toBe(0);
    expect(second.err).toContain("ingested before");
  });

  it("refuses another team's image and unreadable files without a stack trace", async () => {
    const file = join(dir, "report.json");
    const other = await cli(["ingest", file, "--team", "payments"]);
    expect(other.code).toBe(1);
    expect(other.err).toContain("owned by team search");
    const missing = await cli(["ingest", join(dir, "nope.json")]);
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining("cannot read the file") });
    await writeFile(join(dir, "bad.json"), "{ not json");
    const bad = await cli(["ingest", join(dir, "bad.json"), "--image", "x/y", "--digest", digestOf(1)]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("not valid JSON");
    expect(bad.err).not.toMatch(/\n\s+at /);
  });
});
