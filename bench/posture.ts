// `npm run bench:posture`: `/patch status` and all team digests' posture over QUALITY.md's fleet,
// against the same SQL run bare in psql in the same run. Creates and drops its own database.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { promisify } from "node:util";
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import pg from "pg";
import { configFileSchema } from "../src/config/file-schema.js";
import { digestPeriod } from "../src/core/digest/digest-period.js";
import { DEFAULT_SLA_POLICY } from "../src/core/sla/sla-policy.js";
import { createDatabase, type Database } from "../src/db/client.js";
import { runMigrations } from "../src/db/migrate.js";
import { buildTeamDigests } from "../src/services/build-team-digest.js";
import { fleetPosture } from "../src/services/posture/fleet-posture.js";
import { imagePosture } from "../src/services/posture/image-posture.js";
import { imagePostureRowsSql } from "../src/services/posture/image-posture-rows.js";
import { meanTimeToRemediate } from "../src/services/posture/mean-time-to-remediate.js";
import { teamPosture } from "../src/services/posture/team-posture.js";
import { topImagesByRisk } from "../src/services/posture/top-images-by-risk.js";
import { unownedPosture } from "../src/services/posture/unowned-posture.js";
import { urgentFindings } from "../src/services/posture/urgent-findings.js";
import { FLEET, seedFleet } from "./posture-seed.js";

const ADMIN_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DB_NAME = "pp_bench_posture";
const NOW = new Date("2026-11-24T12:00:00.000Z");
const SLA = DEFAULT_SLA_POLICY;
const IMAGE_SAMPLES = 200;
const TEAM_SAMPLES = 100;
const FLEET_ROUNDS = 5;
const DIGEST_ROUNDS = 5;
const BAR_STATUS_P99_MS = 100;
const BAR_DIGESTS_MS = 2_000;
// BENCH_POSTURE_KEEP=1 keeps the seeded database for EXPLAIN and reuses it on the next run.
const KEEP = process.env.BENCH_POSTURE_KEEP === "1";

const run = promisify(execFile);
const log = (line = "") => process.stdout.write(`${line}\n`);
const ms = (n: number) => `${n.toFixed(1)} ms`;

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

function urlOf(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

function machine(): string {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown";
  const gib = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${os.availableParallelism()} CPUs (nproc), ${gib} GiB memory, ${model}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;
}

// --- the psql baseline: the identical SQL text, PREPAREd once, EXECUTEd with the same values ---

const dialect = new PgDialect();

function literal(value: unknown): string {
  if (value === null) return "NULL";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'`;
  throw new Error(`no psql literal for ${typeof value}`);
}

/** Runs `PREPARE q AS <sql>` once and `EXECUTE q(…)` per parameter set; psql's \timing of each. */
async function psqlTimings(queries: readonly SQL[], settings: readonly string[] = []): Promise<number[]> {
  const first = queries[0];
  if (first === undefined) return [];
  const text = dialect.sqlToQuery(first).sql;
  const executes = queries.map((q) => {
    const rendered = dialect.sqlToQuery(q);
    if (rendered.sql !== text) throw new Error("baseline queries must share one SQL text");
    return `EXECUTE q(${rendered.params.map(literal).join(", ")});`;
  });
  // node-postgres sends each query unnamed, so the server plans it with the values every time;
  // force_custom_plan makes the prepared statement in psql do the same.
  const script = [
    "\\set ON_ERROR_STOP 1",
    "SET plan_cache_mode = force_custom_plan;",
    ...settings,
    `PREPARE q AS ${text};`,
    "\\o /dev/null",
    "\\timing on",
    ...executes,
  ].join("\n");
  const child = run("psql", ["-X", "-q", "-d", urlOf(DB_NAME), "-f", "-"], { maxBuffer: 16 * 2 ** 20 });
  child.child.stdin?.end(script);
  const { stdout } = await child;
  const times = [...stdout.matchAll(/^Time: ([\d.]+) ms/gm)].map((m) => Number(m[1]));
  if (times.length !== queries.length)
    throw new Error(`psql reported ${times.length} timings for ${queries.length}`);
  return times;
}

// --- server CPU: unlike wall time, what a query costs does not depend on how loaded the machine is ---

// USER_HZ: 100 ticks a second on Linux.
const TICK_MS = 10;

/** CPU time (user + system) the Postgres backends with these pids have used so far, in ms. */
function backendCpuMs(pids: readonly number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return null; // Postgres runs elsewhere (another host, a container): no CPU figures
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  }
  return total;
}

async function cpuOf(pids: readonly number[], fn: () => Promise<unknown>): Promise<number | null> {
  const before = backendCpuMs(pids);
  await fn();
  const after = backendCpuMs(pids);
  return before === null || after === null ? null : after - before;
}

/** The backends of the service's pool (application_name patchpilot), seen from another session. */
async function poolPids(observer: pg.Client): Promise<number[]> {
  const { rows } = await observer.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'patchpilot'",
  );
  return rows.map((r) => r.pid);
}

// --- the run ---

async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = performance.now();
    await seedFleet(client, NOW, log);
    await client.query("VACUUM ANALYZE");
    log(`  seeded and vacuumed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const { rows } = await client.query<Record<string, string>>(`
      SELECT (SELECT count(*) FROM images) AS images,
        (SELECT count(*) FROM images WHERE team_id IS NULL) AS unowned,
        (SELECT count(*) FROM teams) AS teams,
        (SELECT count(*) FROM scans) AS scans,
        (SELECT count(*) FROM findings) AS findings,
        (SELECT count(*) FROM findings f JOIN images i ON i.latest_scan_id = f.scan_id) AS latest_findings,
        (SELECT count(*) FROM finding_lifecycle) AS lifecycle,
        (SELECT count(*) FROM risk_acceptances) AS acceptances,
        (SELECT count(*) FROM rollouts) AS rollouts,
        pg_size_pretty(pg_total_relation_size('findings')) AS findings_size`);
    log(`  ${JSON.stringify(rows[0])}`);
  } finally {
    await client.end();
  }
}

async function seeded(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM images");
    return (rows[0]?.n ?? 0) === FLEET.ownedImages + FLEET.unownedImages;
  } catch {
    return false; // no such database yet, or not migrated
  } finally {
    await c.end().catch(() => {});
  }
}

type Sample = { imageIds: string[]; teamIds: string[] };

async function sample(database: Database): Promise<Sample> {
  // Deterministic "random" picks: ordered by a hash of the id.
  const images = await database.pool.query<{ id: string }>(
    `SELECT id FROM images WHERE team_id IS NOT NULL ORDER BY md5(id::text) LIMIT ${IMAGE_SAMPLES}`,
  );
  const teams = await database.pool.query<{ id: string }>(
    `SELECT id FROM teams ORDER BY md5(id) LIMIT ${TEAM_SAMPLES}`,
  );
  return { imageIds: images.rows.map((r) => r.id), teamIds: teams.rows.map((r) => r.id) };
}

const fleetSqlOf = () => imagePostureRowsSql({ scope: { kind: "fleet" }, now: NOW, sla: SLA });

/** Median server CPU per fleet pass over three passes: ours (all pool backends) and the bare SQL. */
async function fleetCpu(
  database: Database,
  fleetSql: SQL,
): Promise<{ ours: number | null; bare: number | null }> {
  const observer = new pg.Client({ connectionString: urlOf(DB_NAME) });
  const bare = new pg.Client({ connectionString: urlOf(DB_NAME), application_name: "bench-bare" });
  await observer.connect();
  await bare.connect();
  try {
    await bare.query("SET jit = off");
    const { rows } = await bare.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const barePid = rows[0]?.pid ?? 0;
    const { sql: text, params } = dialect.sqlToQuery(fleetSql);
    const ours: (number | null)[] = [];
    const plain: (number | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const pids = await poolPids(observer);
      ours.push(await cpuOf(pids, () => fleetPosture(database.db, { now: NOW, sla: SLA })));
      plain.push(await cpuOf([barePid], () => bare.query(text, params)));
    }
    const median = (xs: (number | null)[]) =>
      xs.some((x) => x === null)
        ? null
        : percentile(
            xs.map((x) => x ?? 0),
            50,
          );
    return { ours: median(ours), bare: median(plain) };
  } finally {
    await bare.end();
    await observer.end();
  }
}

/** Server CPU of one `buildAllDigests` (all pool backends) and of one bare fleet pass. */
async function digestsCpu(
  database: Database,
  teamIds: readonly string[],
): Promise<{ ours: number | null; bare: number | null }> {
  const observer = new pg.Client({ connectionString: urlOf(DB_NAME) });
  const bare = new pg.Client({ connectionString: urlOf(DB_NAME), application_name: "bench-bare" });
  await observer.connect();
  await bare.connect();
  try {
    await bare.query("SET jit = off");
    const { rows } = await bare.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const { sql: text, params } = dialect.sqlToQuery(fleetSqlOf());
    const pids = await poolPids(observer);
    return {
      ours: await cpuOf(pids, () => buildAllDigests(database.db, teamIds)),
      bare: await cpuOf([rows[0]?.pid ?? 0], () => bare.query(text, params)),
    };
  } finally {
    await bare.end();
    await observer.end();
  }
}

// The digest job's config: one team named (the schema wants one); stage policies come from defaults.
const CONFIG = configFileSchema.parse({ version: 1, teams: [{ id: "team-001", channel: "C0TEAM001" }] });

/** What the digest job builds for a subscription of every team: all 200 digest view-models. */
async function buildAllDigests(db: Database["db"], teamIds: readonly string[]): Promise<number> {
  const unowned = (await unownedPosture(db, { now: NOW, sla: SLA })).map((u) => ({
    repository: u.repository,
    open: u.counts.open,
    lastScanAt: u.lastScanAt,
  }));
  const digests = await buildTeamDigests(db, {
    teamIds,
    subscriptionId: null,
    period: digestPeriod("0 9 * * 1", "UTC", NOW),
    now: NOW,
    sla: SLA,
    unowned,
    chartAttached: true,
    config: CONFIG,
  });
  return digests.size;
}

type Result = { label: string; ours: number; baseline: number | null; bar: number | null };

async function measure(database: Database, s: Sample): Promise<Result[]> {
  const { db } = database;
  log("warming up (one fleet pass, 20 image and 10 team answers)");
  await fleetPosture(db, { now: NOW, sla: SLA });
  for (const imageId of s.imageIds.slice(0, 20)) await imagePosture(db, { imageId, now: NOW, sla: SLA });
  for (const teamId of s.teamIds.slice(0, 10)) await teamPosture(db, { teamId, now: NOW, sla: SLA });

  log(
    `imagePosture × ${s.imageIds.length} (status of one image: counts, urgent list, acceptances, rollouts)`,
  );
  const imageTimes: number[] = [];
  for (const imageId of s.imageIds)
    imageTimes.push(await timed(() => imagePosture(db, { imageId, now: NOW, sla: SLA })));
  const imageBase = await psqlTimings(
    s.imageIds.map((imageId) =>
      imagePostureRowsSql({ scope: { kind: "image", imageId }, now: NOW, sla: SLA }),
    ),
  );

  log(`teamPosture × ${s.teamIds.length}`);
  const teamTimes: number[] = [];
  for (const teamId of s.teamIds)
    teamTimes.push(await timed(() => teamPosture(db, { teamId, now: NOW, sla: SLA })));
  const teamBase = await psqlTimings(
    s.teamIds.map((teamId) => imagePostureRowsSql({ scope: { kind: "team", teamId }, now: NOW, sla: SLA })),
  );

  log("server CPU of one fleet pass: fleetPosture's pool backends, and the same SQL on a bare pg connection");
  const cpu = await fleetCpu(database, fleetSqlOf());

  log(`fleetPosture × ${FLEET_ROUNDS}, each round followed by the bare aggregate in psql`);
  const fleetTimes: number[] = [];
  const fleetBase: number[] = [];
  const fleetBaseJit: number[] = [];
  const fleetSql = fleetSqlOf();
  for (let round = 0; round < FLEET_ROUNDS; round++) {
    fleetTimes.push(await timed(() => fleetPosture(db, { now: NOW, sla: SLA })));
    // As the service runs it (SET LOCAL jit = off), and with the server's default JIT for context.
    fleetBase.push(...(await psqlTimings([fleetSql], ["SET jit = off;"])));
    fleetBaseJit.push(...(await psqlTimings([fleetSql])));
  }

  const week = { from: new Date(NOW.getTime() - 7 * 86_400_000), to: NOW };
  const mttrTeam: number[] = [];
  for (const teamId of s.teamIds)
    mttrTeam.push(await timed(() => meanTimeToRemediate(db, { teamId, ...week })));
  const mttrFleet = await timed(() => meanTimeToRemediate(db, week));
  const topFleet = await timed(() => topImagesByRisk(db, { now: NOW, sla: SLA, limit: 10 }));
  const unowned = await timed(() => unownedPosture(db, { now: NOW, sla: SLA }));

  // What building the digests team by team reads instead of one fleet pass: per team its
  // posture, then its urgent findings and mean time to remediate together.
  log("the 200 digests' queries team by team (teamPosture, then urgentFindings + meanTimeToRemediate)");
  const allTeams = await database.pool.query<{ id: string }>("SELECT id FROM teams ORDER BY id");
  const perTeam = await timed(async () => {
    for (const { id: teamId } of allTeams.rows) {
      await teamPosture(db, { teamId, now: NOW, sla: SLA });
      await Promise.all([
        urgentFindings(db, { scope: { kind: "team", teamId }, now: NOW, sla: SLA, limit: 200 }),
        meanTimeToRemediate(db, { teamId, ...week }),
      ]);
    }
  });

  log(
    `all ${allTeams.rows.length} digests built × ${DIGEST_ROUNDS} (the digest job's code), each round followed by the bare aggregate in psql`,
  );
  const digestTimes: number[] = [];
  const digestBase: number[] = [];
  const teamIds = allTeams.rows.map((r) => r.id);
  for (let round = 0; round < DIGEST_ROUNDS; round++) {
    let built = 0;
    digestTimes.push(
      await timed(async () => {
        built = await buildAllDigests(db, teamIds);
      }),
    );
    if (built !== teamIds.length) throw new Error(`built ${built} digests of ${teamIds.length}`);
    digestBase.push(...(await psqlTimings([fleetSql], ["SET jit = off;"])));
  }

  // Load-independent: server CPU of one more build, over the pool's backends (the digests' queries
  // use no parallel workers), against one bare fleet pass on its own connection.
  const digestCpu = await digestsCpu(database, teamIds);

  log(
    `  imagePosture runs (ms): p50 ${percentile(imageTimes, 50).toFixed(1)}, max ${Math.max(...imageTimes).toFixed(1)}`,
  );
  log(
    `  teamPosture runs (ms): p50 ${percentile(teamTimes, 50).toFixed(1)}, max ${Math.max(...teamTimes).toFixed(1)}`,
  );
  log(`  fleetPosture runs (ms): ${fleetTimes.map((t) => t.toFixed(0)).join(", ")}`);
  log(
    `  psql fleet aggregate runs, jit off as the service runs it (ms): ${fleetBase.map((t) => t.toFixed(0)).join(", ")}`,
  );
  log(`  all digests built runs (ms): ${digestTimes.map((t) => t.toFixed(0)).join(", ")}`);
  log(`  psql fleet aggregate runs after them (ms): ${digestBase.map((t) => t.toFixed(0)).join(", ")}`);
  log(
    `  psql fleet aggregate runs, server default jit (ms): ${fleetBaseJit.map((t) => t.toFixed(0)).join(", ")}`,
  );
  return [
    {
      label: "status, one image: imagePosture p50",
      ours: percentile(imageTimes, 50),
      baseline: percentile(imageBase, 50),
      bar: null,
    },
    {
      label: "status, one image: imagePosture p99",
      ours: percentile(imageTimes, 99),
      baseline: percentile(imageBase, 99),
      bar: BAR_STATUS_P99_MS,
    },
    {
      label: "status, one team: teamPosture p50",
      ours: percentile(teamTimes, 50),
      baseline: percentile(teamBase, 50),
      bar: null,
    },
    {
      label: "status, one team: teamPosture p99",
      ours: percentile(teamTimes, 99),
      baseline: percentile(teamBase, 99),
      bar: BAR_STATUS_P99_MS,
    },
    {
      label: "all 200 digests' posture: fleetPosture median",
      ours: percentile(fleetTimes, 50),
      baseline: percentile(fleetBase, 50),
      bar: BAR_DIGESTS_MS,
    },
    {
      label: "all 200 digests' posture: fleetPosture worst",
      ours: Math.max(...fleetTimes),
      baseline: Math.max(...fleetBase),
      bar: null,
    },
    {
      label: "all 200 digests built (view-models, as the digest job builds them): median",
      ours: percentile(digestTimes, 50),
      baseline: percentile(digestBase, 50),
      bar: BAR_DIGESTS_MS,
    },
    {
      label: "all 200 digests built: worst",
      ours: Math.max(...digestTimes),
      baseline: Math.max(...digestBase),
      bar: null,
    },
    ...(cpu.ours === null || cpu.bare === null
      ? []
      : [
          {
            label: "server CPU of one fleet pass (load-independent)",
            ours: cpu.ours,
            baseline: cpu.bare,
            bar: null,
          },
        ]),
    ...(digestCpu.ours === null || digestCpu.bare === null
      ? []
      : [
          {
            label: "server CPU of all 200 digests built (load-independent; vs one bare fleet pass)",
            ours: digestCpu.ours,
            baseline: digestCpu.bare,
            bar: null,
          },
        ]),
    {
      label: "mean time to remediate, one team, 7 days: p99",
      ours: percentile(mttrTeam, 99),
      baseline: null,
      bar: null,
    },
    { label: "mean time to remediate, whole fleet, 7 days", ours: mttrFleet, baseline: null, bar: null },
    { label: "top 10 images by risk, whole fleet", ours: topFleet, baseline: null, bar: null },
    { label: "unowned images (unownedPosture)", ours: unowned, baseline: null, bar: null },
    {
      label: "200 digests' queries team by team, sequential",
      ours: perTeam,
      baseline: null,
      bar: null,
    },
  ];
}

function report(results: readonly Result[]): boolean {
  log();
  log("| measure | ours | psql baseline | ours ÷ baseline | bar | result |");
  log("|---|---|---|---|---|---|");
  let ok = true;
  for (const r of results) {
    const ratio = r.baseline === null ? "—" : `${(r.ours / r.baseline).toFixed(2)}×`;
    const pass = r.bar === null ? null : r.ours <= r.bar;
    if (pass === false) ok = false;
    const verdict =
      pass === null
        ? "—"
        : `${pass ? "PASS" : "FAIL"} (headroom ${(r.bar ?? 0) / r.ours >= 10 ? ">10" : ((r.bar ?? 0) / r.ours).toFixed(1)}×)`;
    log(
      `| ${r.label} | ${ms(r.ours)} | ${r.baseline === null ? "—" : ms(r.baseline)} | ${ratio} | ${r.bar === null ? "—" : `≤ ${r.bar} ms`} | ${verdict} |`,
    );
  }
  return ok;
}

async function main(): Promise<void> {
  log("bench:posture — /patch status and all team digests over the sizing-target fleet");
  log(
    "Sizing target (QUALITY.md): 5,000 images owned by 200 teams, ≈1.25 M open findings, ≈1.4 scan uploads/s over an hour, a few hundred approvals a day, 200 digest channels.",
  );
  log(`Machine: ${machine()}`);
  log(
    `Seeded fleet: ${FLEET.ownedImages} owned images (${FLEET.ownedImages / FLEET.teams} per team, one base image per team) + ${FLEET.unownedImages} unowned, 2 scans each, 50–450 findings per scan.`,
  );
  log(
    "Baseline: the identical SQL text, PREPAREd in psql and EXECUTEd with the same values and session settings (\\timing, output to /dev/null).",
  );
  log();
  const url = urlOf(DB_NAME);
  const reuse = KEEP && (await seeded(url));
  if (!reuse) {
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${DB_NAME}`);
  }
  let database: Database | null = null;
  try {
    if (reuse) log(`reusing the fleet seeded in ${DB_NAME} (BENCH_POSTURE_KEEP=1)`);
    else {
      await runMigrations(url);
      log("seeding");
      await seed(url);
    }
    database = createDatabase(url, { max: 4 });
    const ok = report(await measure(database, await sample(database)));
    log();
    log(ok ? "All bars met." : "A bar was missed.");
    process.exitCode = ok ? 0 : 1;
  } finally {
    await database?.close();
    if (!KEEP) await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  }
}

await main();
