/**
 * `npm run bench:approve-txn` — one approval decision through our code (`approveStage`: the
 * vote, the stage's state change, the dispatch and card intents, the audit row, the rollout's
 * version bump, in one transaction on the locked rollout), 1 and 8 clients, against pgbench
 * sending the very statements one `approveStage` sent in this run, captured at the driver, in the
 * same order, `-M prepared` (QUALITY.md, "approve-txn"). Creates and drops its own database.
 */
import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { Database } from "../src/db/client.js";
import { approveStage } from "../src/services/rollouts/approve-stage.js";
import type { RolloutDeps } from "../src/services/rollouts/rollout-deps.js";
import { captureStatements, replayScript } from "./approve-txn/replay-script.js";
import { cpuDelta, cpuSeconds } from "./ingest/cpu-seconds.js";
import { describeMachine } from "./ingest/describe-machine.js";
import {
  admin,
  benchMembership,
  candidateOf,
  dbUrl,
  fleetConfig,
  freshDatabase,
  giveCandidates,
  log,
  MARIA,
  openDatabase,
  pct,
  postgresVersion,
  startRollouts,
} from "./rollouts/fleet.js";

const DB_NAME = "pp_bench_approve_txn";
const CLIENTS = [1, 8];
const PHASE_SECONDS = Number(process.env.BENCH_APPROVE_SECONDS ?? 6);
// Rollouts prepared for our side: enough that no phase runs out (an approved rollout cannot be
// approved again). A fast machine approves ~1,000/s at 8 clients: 12,000 last the warm-up and
// both phases there.
const OURS = Number(process.env.BENCH_APPROVE_ROLLOUTS ?? 12_000);
// pgbench's own set, each of its transactions approving a rollout of its own as ours do (a
// re-approved rollout is not the same work: its votes pile up, which the rollout read joins, and
// with a set of 200 pgbench ran at 494/s where fresh rollouts gave 713/s). pgbench runs ~1.4× our
// rate: 16,000 last its warm-up and both phases on a fast machine.
const PGBENCH_SET = Number(process.env.BENCH_APPROVE_PGBENCH_ROLLOUTS ?? 16_000);
const BAR = 0.6;
const SCRIPT = join(tmpdir(), `pp-bench-approve-${process.pid}.pgbench.sql`);
const run = promisify(execFile);

type Side = {
  rate: number;
  p50: number;
  p99: number;
  n: number;
  cpuMs?: number;
  /** Postgres's CPU per approval (all its processes), ms: where the two sides' SQL costs differ. */
  postgresMs: number;
  /** WAL written per approval, bytes. */
  walBytes: number;
};

/** Where Postgres's WAL stands now. */
async function walAt(database: Database): Promise<string> {
  const r = await database.pool.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
  return r.rows[0]?.lsn ?? "0/0";
}

/** WAL bytes written since `from`. */
async function walSince(database: Database, from: string): Promise<number> {
  const r = await database.pool.query<{ n: string }>(
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS n",
    [from],
  );
  return Number(r.rows[0]?.n ?? Number.NaN);
}

async function ours(
  deps: RolloutDeps,
  database: Database,
  ids: number[],
  clients: number,
  seconds: number,
): Promise<Side> {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  const client = async () => {
    while (performance.now() < until) {
      const id = ids.pop();
      if (id === undefined) return;
      const t0 = performance.now();
      const r = await approveStage(deps, {
        rolloutId: id,
        stage: "staging",
        actor: MARIA,
        buttonDigest: candidateOf(id),
        origin: { bench: true },
      });
      if (!r.ok) throw new Error(`approve #${id}: ${r.message}`);
      latencies.push(performance.now() - t0);
    }
  };
  const wal0 = await walAt(database);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const pg0 = cpuSeconds([]);
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pgCpu = cpuDelta(pg0, cpuSeconds([])).postgres;
  const wal = await walSince(database, wal0);
  return {
    postgresMs: (pgCpu * 1000) / latencies.length,
    walBytes: wal / latencies.length,
    // This process's CPU per approval (drizzle, pg, our code): the part of the cost that is ours.
    cpuMs: (cpu.user + cpu.system) / 1000 / latencies.length,
    rate: latencies.length / elapsed,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    n: latencies.length,
  };
}

/** Where pgbench's next transaction starts in its set: past every rollout a run before approved. */
type PgbenchCursor = {
  first: number;
  offset: number;
  /** The version every rollout of the set had before pgbench approved any: one approval adds one. */
  v0: number;
  /** Some rollout was approved a second time: the set ran out. */
  wrapped: boolean;
};

async function pgbench(
  url: string,
  defines: string[],
  cursor: PgbenchCursor,
  clients: number,
  seconds: number,
  database: Database,
): Promise<Side> {
  const wal0 = await walAt(database);
  const pg0 = cpuSeconds([]);
  const { stdout } = await run(
    process.env.PGBENCH ?? "pgbench",
    [
      ...defines,
      "-n",
      "-f",
      SCRIPT,
      "-c",
      String(clients),
      "-j",
      String(Math.min(clients, 2)),
      "-T",
      String(seconds),
      "-M",
      "prepared",
      "-r",
      "-D",
      `first=${cursor.first}`,
      "-D",
      `count=${PGBENCH_SET}`,
      "-D",
      `offset=${cursor.offset}`,
      "-D",
      `nclients=${clients}`,
      "-D",
      "k=0",
      url,
    ],
    { maxBuffer: 16 * 2 ** 20 },
  );
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
  const n = /number of transactions actually processed: (\d+)/.exec(stdout);
  const lat = /latency average = ([\d.]+) ms/.exec(stdout);
  const failed = /number of failed transactions: (\d+)/.exec(stdout);
  if (!tps || !n) throw new Error(`pgbench output not understood:\n${stdout}`);
  if (failed && Number(failed[1]) > 0) log(`pgbench: ${failed[1]} failed transactions`);
  const avg = Number(lat?.[1] ?? Number.NaN);
  // Includes its connecting and the 0.1–0.2 s after its last transaction: a slight overcount.
  const pgCpu = cpuDelta(pg0, cpuSeconds([])).postgres;
  const wal = await walSince(database, wal0);
  // The next run starts past the furthest rollout this one approved (clients progress unevenly).
  const furthest = await database.pool.query<{ n: string | null; again: boolean | null }>(
    `SELECT max(id) FILTER (WHERE version > $3::int) - $1::int + 1 AS n, bool_or(version > $3::int + 1) AS again
       FROM rollouts WHERE id BETWEEN $1::int AND $1::int + $2::int - 1`,
    [cursor.first, PGBENCH_SET, cursor.v0],
  );
  const used = Number(furthest.rows[0]?.n ?? 0);
  if (furthest.rows[0]?.again) cursor.wrapped = true;
  cursor.offset = Math.max(cursor.offset + Number(n[1]), used) % PGBENCH_SET;
  return {
    rate: Number(tps[1]),
    p50: avg,
    p99: Number.NaN,
    n: Number(n[1]),
    postgresMs: (pgCpu * 1000) / Number(n[1]),
    walBytes: wal / Number(n[1]),
  };
}

async function counts(database: Database): Promise<Record<string, number>> {
  const r = await database.pool.query<{ a: string; o: string; v: string }>(
    "SELECT (SELECT count(*) FROM audit_events) a, (SELECT count(*) FROM outbox) o, (SELECT count(*) FROM approvals) v",
  );
  const row = r.rows[0];
  return { audit: Number(row?.a), outbox: Number(row?.o), approvals: Number(row?.v) };
}

async function main(): Promise<void> {
  log("# approve-txn — one approval decision vs pgbench running the same SQL (npm run bench:approve-txn)");
  log(
    "sizing target: 5,000 images, 200 teams, ≈1.25 M open findings, ≈1.4 uploads/s; approvals come by the click",
  );
  for (const line of describeMachine(await postgresVersion())) log(line);
  log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const url = await freshDatabase(DB_NAME);
  const database = openDatabase(url, 20);
  const images = OURS + PGBENCH_SET;
  const deps: RolloutDeps = {
    db: database.db,
    config: fleetConfig(images),
    now: () => new Date(),
    membership: benchMembership,
    // Queueing the intents is Redis work after the commit; this bench measures the transaction.
    afterCommit: async () => {},
  };
  let ok = false;
  try {
    const t0 = performance.now();
    // Rollout and stage ids far apart, so the captured statements tell one from the other.
    const owner = new pg.Client({ connectionString: url });
    await owner.connect();
    await owner.query(
      "SELECT setval(pg_get_serial_sequence('rollouts', 'id'), 1000000), setval(pg_get_serial_sequence('rollout_stages', 'id'), 2000000)",
    );
    await owner.end();
    const ids = (await startRollouts(deps, images)).sort((a, b) => a - b);
    await giveCandidates(database);
    log(
      `prepared ${images} rollouts (one per image, staging awaiting 1 approval, candidate scanned) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const pgbenchIds = ids.slice(OURS);
    const first = pgbenchIds[0] ?? 0;
    if (pgbenchIds.at(-1) !== first + PGBENCH_SET - 1)
      throw new Error("pgbench's rollouts are not contiguous ids");
    const versions = await database.pool.query<{ lo: number; hi: number }>(
      "SELECT min(version) AS lo, max(version) AS hi FROM rollouts WHERE id BETWEEN $1::int AND $1::int + $2::int - 1",
      [first, PGBENCH_SET],
    );
    const v0 = versions.rows[0]?.lo ?? 0;
    if (versions.rows[0]?.hi !== v0) throw new Error("pgbench's rollouts do not all start at one version");
    const cursor: PgbenchCursor = { first, offset: 0, v0, wrapped: false };
    const pool = ids.slice(0, OURS).reverse();
    // Warm-up: JIT, pooled connections, prepared plans on both sides; not judged.
    await ours(deps, database, pool, 8, 1);
    // Fresh statistics, as autovacuum keeps them in a running system: taken after the set-up and
    // the warm-up (so approvals are not an empty table, planned as one to scan whole), they make
    // Postgres plan again the statements pooled connections cached while tables were near empty.
    // (As the tables' owner: the application's role may not analyze them.)
    const analyst = new pg.Client({ connectionString: url });
    await analyst.connect();
    await analyst.query("ANALYZE");
    await analyst.end();
    const captured = pool.pop();
    if (captured === undefined) throw new Error("no rollout left to capture");
    const { value: outcome, statements } = await captureStatements(() =>
      approveStage(deps, {
        rolloutId: captured,
        stage: "staging",
        actor: MARIA,
        buttonDigest: candidateOf(captured),
        origin: { bench: true },
      }),
    );
    if (!outcome.ok) throw new Error(`captured approval #${captured}: ${outcome.message}`);
    const teamOf = await database.pool.query<{ team_id: string }>(
      "SELECT team_id FROM rollouts WHERE id = $1",
      [captured],
    );
    const replay = replayScript(statements, {
      rolloutId: captured,
      uniquePerApproval: [MARIA.id],
      perTeam: { value: teamOf.rows[0]?.team_id ?? "", among: deps.config.teams.length },
    });
    await writeFile(SCRIPT, replay.script);
    log(
      `baseline: pgbench replays the ${statements.length} statements one approveStage sent (rollout #${captured}), in order, -M prepared:`,
    );
    for (const line of replay.summary) log(`    ${line}`);
    await pgbench(url, replay.defines, cursor, 8, 1, database);
    log(
      `shape: ${PHASE_SECONDS} s per phase; ours = approveStage in this process (pool 20), pgbench -M prepared`,
    );
    log();
    log(
      "| clients | ours approvals/s | ours p50 / p99 ms | pgbench tx/s | pgbench mean ms | ours ÷ pgbench | bar | result |",
    );
    log("|---|---|---|---|---|---|---|---|");
    const results: boolean[] = [];
    for (const c of CLIENTS) {
      const before = await counts(database);
      const o = await ours(deps, database, pool, c, PHASE_SECONDS);
      if (o.n === 0)
        throw new Error(`no prepared rollout left for the ${c}-client phase: raise BENCH_APPROVE_ROLLOUTS`);
      const after = await counts(database);
      const b = await pgbench(url, replay.defines, cursor, c, PHASE_SECONDS, database);
      const ratio = o.rate / b.rate;
      const pass = ratio >= BAR;
      results.push(pass);
      log(
        `| ${c} | ${o.rate.toFixed(0)} (${o.n}) | ${o.p50.toFixed(1)} / ${o.p99.toFixed(1)} | ${b.rate.toFixed(0)} (${b.n}) | ${b.p50.toFixed(1)} | ${(ratio * 100).toFixed(0)}% | ≥ ${BAR * 100}% | ${pass ? "PASS" : "**FAIL**"} |`,
      );
      const per = (k: string) => ((after[k] ?? 0) - (before[k] ?? 0)) / o.n;
      log(
        `|  | per approval (ours): audit rows ${per("audit").toFixed(2)}, outbox rows ${per("outbox").toFixed(2)}, approvals ${per("approvals").toFixed(2)}; CPU of this process ${o.cpuMs?.toFixed(2)} ms; Postgres CPU ours ${o.postgresMs.toFixed(2)} ms, pgbench's ${b.postgresMs.toFixed(2)} ms; WAL ours ${o.walBytes.toFixed(0)} B, pgbench's ${b.walBytes.toFixed(0)} B |  |  |  |  |  |  |`,
      );
      if (pool.length === 0)
        log("(ran out of prepared rollouts before the phase's end: its rate is over the time it ran)");
      if (cursor.wrapped)
        log(
          "(pgbench ran out of fresh rollouts and approved some again: raise BENCH_APPROVE_PGBENCH_ROLLOUTS)",
        );
    }
    ok = results.every(Boolean);
    log();
    log(`overall: ${ok ? "PASS" : "FAIL"} (bar: ours ≥ ${BAR * 100}% of pgbench's rate at 1 and 8 clients)`);
  } finally {
    await rm(SCRIPT, { force: true });
    await database.close();
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    log(`cleanup: dropped ${DB_NAME}`);
  }
  // Exits 0 either way: the verdict is in the output (a benchmark is not a test).
  void dbUrl;
}

await main();
