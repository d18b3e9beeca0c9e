import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

/** Where the tests find PostgreSQL and Redis (.ci/run starts both on these addresses). */
export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_TEST_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export type TestDatabase = { name: string; url: string; drop(): Promise<void> };

/** A fresh, migrated database for one test file; `drop()` removes it. */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  // The template holds every migration (global-setup.ts): cloning it beats migrating each time.
  const runId = inject("pgRunId");
  const name = `pp_test_${runId}_${randomBytes(5).toString("hex")}`;
  const template = opts.migrated === false ? "template0" : `pp_tpl_${runId}`;
  // CREATE DATABASE … TEMPLATE fails if another session is connected to the template at that
  // instant (two test files starting together), so retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      break;
    } catch (e) {
      if (attempt >= 20 || !String(e).includes("is being accessed by other users")) throw e;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  return {
    name,
    url: databaseUrl(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A Redis key prefix no other test file uses; BullMQ and our keys all live under it. */
export function uniqueRedisPrefix(): string {
  return `pptest:${randomBytes(5).toString("hex")}`;
}
