import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { runMigrations } from "../../src/db/migrate.js";
import { databaseUrl, PG_ADMIN_URL } from "./databases.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgRunId: string;
  }
}

async function admin(fn: (c: pg.Client) => Promise<void>): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Builds one migrated template database per run; each test file clones it. Names carry a run id
 * so two runs on one machine never drop each other's databases.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(3).toString("hex");
  const template = `pp_tpl_${runId}`;
  await admin(async (c) => {
    await c.query(`CREATE DATABASE ${template}`);
  });
  await runMigrations(databaseUrl(template));
  project.provide("pgRunId", runId);
  return () =>
    admin(async (c) => {
      const { rows } = await c.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2",
        [`pp\\_test\\_${runId}\\_%`, template],
      );
      for (const r of rows) await c.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`);
    });
}
