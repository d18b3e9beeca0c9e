import pg from "pg";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { runMigrations } from "../../src/db/migrate.js";
import type { GroupMembership } from "../../src/services/group-membership.js";
import type { RolloutDeps } from "../../src/services/rollouts/rollout-deps.js";
import { startRollout } from "../../src/services/rollouts/start-rollout.js";
import { syncConfig } from "../../src/services/sync-config.js";

export const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
export const APPROVERS = "S0PAYAPPR";
export const LEE = { id: "U0LEE", name: "lee" };
export const MARIA = { id: "U0MARIA", name: "maria" };

export const log = (line = "") => process.stdout.write(`${line}\n`);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function dbUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function admin<T extends pg.QueryResultRow>(statement: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return (await c.query<T>(statement)).rows;
  } finally {
    await c.end();
  }
}

export async function postgresVersion(): Promise<string> {
  return (await admin<{ v: string }>("SELECT version() AS v"))[0]?.v.split(",")[0] ?? "?";
}

/** Drops and creates `name`, migrated; returns its URL. */
export async function freshDatabase(name: string): Promise<string> {
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  const url = dbUrl(name);
  await runMigrations(url);
  return url;
}

/**
 * `images` configured images over up to 200 teams; each image's only stage, staging, needs one approval: one
 * click by an approver meets the quorum, so the approval records the vote, moves the stage,
 * writes the dispatch and card intents and the audit row — the whole decision transaction. (A
 * rebuild stage that needs an approval cannot be approved today: see the report of this bench.)
 */
export function fleetYaml(images: number): string {
  // Up to 200 teams (the sizing target), each with its own channel, images spread over them:
  // card updates are paced per channel, so one channel for all would queue them at 1/s.
  const teams = Math.min(200, images);
  const lines = ["version: 1", "teams:"];
  for (let t = 0; t < teams; t++)
    lines.push(
      `  - id: team-${t}`,
      `    name: Team ${t}`,
      `    channel: C0BENCH${String(t).padStart(4, "0")}`,
      `    approvers: { groups: [${APPROVERS}], users: [] }`,
    );
  lines.push("images:");
  for (let i = 0; i < images; i++)
    lines.push(
      `  - id: bench-${i}`,
      `    repository: ghcr.io/acme/bench-${i}`,
      `    team: team-${i % teams}`,
      "    github:",
      `      repo: acme/bench-${i}`,
      "      workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml }",
    );
  lines.push("defaultStages: [staging]", "stages:", "  staging: { approvals: 1 }", "");
  return lines.join("\n");
}

export function fleetConfig(images: number) {
  const parsed = parseConfigText(fleetYaml(images));
  if (!parsed.ok) throw new Error(`bench config: ${JSON.stringify(parsed.problems)}`);
  return parsed.config;
}

/** Maria, Omar and Lee approve for payments; Lee starts the rollouts (four-eyes keeps him out). */
export const benchMembership: GroupMembership = {
  members: async (g) => new Set(g === APPROVERS ? [MARIA.id, "U0OMAR", LEE.id] : []),
  groupsOf: async (user, groups) =>
    groups.filter((g) => g === APPROVERS && [MARIA.id, "U0OMAR", LEE.id].includes(user)),
};

/** Starts one rollout per configured image (Lee), `parallel` at a time; returns their ids. */
export async function startRollouts(deps: RolloutDeps, images: number, parallel = 8): Promise<number[]> {
  await syncConfig(deps.db, deps.config, (ref) => normalizeImageRef(ref).repository);
  const ids: number[] = new Array(images);
  let next = 0;
  const one = async () => {
    while (next < images) {
      const i = next++;
      const r = await startRollout(deps, {
        image: `bench-${i}`,
        actor: LEE,
        origin: { bench: true },
        reason: "bench",
        trigger: "manual",
      });
      if (!r.ok || r.rolloutId === undefined) throw new Error(`start bench-${i}: ${r.message}`);
      ids[i] = r.rolloutId;
    }
  };
  await Promise.all(Array.from({ length: parallel }, one));
  return ids;
}

/** The candidate digest a prepared rollout's button is bound to. */
export const candidateOf = (rolloutId: number) =>
  `sha256:${rolloutId.toString(16).padStart(8, "0")}${"b".repeat(56)}`;

/**
 * Gives every open rollout a scanned candidate (an empty scan of it), as the rebuild's upload
 * would: staging can then be approved with a button bound to `candidateOf(id)`.
 */
export async function giveCandidates(database: Database): Promise<void> {
  await database.pool.query(
    `WITH c AS (
       SELECT r.id, r.image_id, 'sha256:' || lpad(to_hex(r.id), 8, '0') || repeat('b', 56) AS digest
         FROM rollouts r WHERE r.state = 'active')
     , s AS (
       INSERT INTO scans (image_id, digest, format, scanner_name, content_hash, finding_count, diff, rollout_id)
       SELECT image_id, digest, 'trivy', 'trivy', md5(digest), 0, '{}'::jsonb, id FROM c RETURNING 1)
     UPDATE rollouts r SET candidate_digest = c.digest FROM c WHERE r.id = c.id`,
  );
  await database.pool.query(
    `UPDATE rollout_stages st SET candidate_digest = r.candidate_digest, target_digest = r.candidate_digest
       FROM rollouts r WHERE st.rollout_id = r.id AND r.state = 'active'`,
  );
}

export function openDatabase(url: string, max = 20): Database {
  return createDatabase(url, { max });
}

/** Nearest-rank percentile. */
export function pct(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? Number.NaN;
}
