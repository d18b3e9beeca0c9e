import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { expectedMigrationCount, MIGRATIONS_DIR } from "../../src/db/migrate.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { REPO_ROOT, spawnCli } from "../support/spawn-cli.js";

const run = promisify(execFile);
const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe("migrations", () => {
  it("match the drizzle schema (drizzle-kit generate finds nothing to add)", async () => {
    const out = await mkdtemp(join(tmpdir(), "pp-migrations-"));
    await cp(MIGRATIONS_DIR, out, { recursive: true });
    const before = (await readdir(out)).sort();
    const r = await run(process.execPath, ["node_modules/drizzle-kit/bin.cjs", "generate"], {
      cwd: REPO_ROOT,
      env: { ...process.env, DRIZZLE_OUT: out },
    });
    const after = (await readdir(out)).sort();
    expect(after, `schema and migrations disagree; run npm run db:generate\n${r.stdout}`).toEqual(before);
  });

  it("two `patchpilot migrate` runs started together both succeed and leave one schema", async () => {
    const db = await createTestDatabase({ migrated: false });
    dbs.push(db);
    const env = { DATABASE_URL: db.url };
    const [a, b] = [spawnCli(["migrate"], env), spawnCli(["migrate"], env)];
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
    const outputs = [a.stdout(), b.stdout()].sort();
    expect(outputs[0]).toContain("Applied");
    expect(outputs[1]).toContain("Database is up to date.");
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const m = await c.query("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
      expect(m.rows[0].n).toBe(await expectedMigrationCount());
      const t = await c.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit_events'",
      );
      expect(t.rows[0].n).toBe(1);
    } finally {
      await c.end();
    }
  });
});
