import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { z } from "zod";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

// An arbitrary constant shared by every patchpilot process: the key of the migration lock.
const MIGRATION_LOCK_KEY = 7_310_445_112;

/**
 * Applies pending migrations under a session advisory lock, so processes that start together
 * take turns: the first migrates, the others find nothing left to do.
 */
export async function runMigrations(url: string): Promise<{ applied: number }> {
  const client = new pg.Client({ connectionString: url, application_name: "patchpilot-migrate" });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    const before = await appliedCount(client);
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
    const after = await appliedCount(client);
    return { applied: after - before };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}

const journalSchema = z.object({ entries: z.array(z.object({ tag: z.string() })) });

export async function expectedMigrationCount(): Promise<number> {
  const raw = await readFile(`${MIGRATIONS_DIR}/meta/_journal.json`, "utf8");
  return journalSchema.parse(JSON.parse(raw)).entries.length;
}

type Queryable = { query(sql: string): Promise<{ rows: unknown[] }> };

async function appliedCount(client: Queryable): Promise<number> {
  const exists = await client.query("SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS ok");
  const ok = z.array(z.object({ ok: z.boolean() })).parse(exists.rows)[0]?.ok ?? false;
  if (!ok) return 0;
  const r = await client.query("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
  return z.array(z.object({ n: z.number() })).parse(r.rows)[0]?.n ?? 0;
}

/** For /readyz: how many migrations this build expects versus how many the database has. */
export async function migrationStatus(client: Queryable): Promise<{ expected: number; applied: number }> {
  return { expected: await expectedMigrationCount(), applied: await appliedCount(client) };
}
