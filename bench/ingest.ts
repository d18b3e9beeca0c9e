/**
 * `npm run bench:ingest` — scan uploads through the real service (a child process) against
 * `psql \copy` of the same normalized rows, in the same run (QUALITY.md, "ingest").
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { parseDocument } from "yaml";
import { createDatabase } from "../src/db/client.js";
import { runMigrations } from "../src/db/migrate.js";
import { createToken } from "../src/services/upload-tokens.js";
import { startFakeSlack } from "../test/support/fake-slack.js";
import { buildUploads, type GroupSpec } from "./ingest/build-uploads.js";
import { clearRedisPrefix } from "./ingest/clear-redis-prefix.js";
import { describeMachine } from "./ingest/describe-machine.js";
import { postUploads } from "./ingest/post-uploads.js";
import { printResults } from "./ingest/print-results.js";
import { readHeap } from "./ingest/read-heap.js";
import { type GroupResult, runGroup } from "./ingest/run-group.js";
import { startRssSampler } from "./ingest/sample-rss.js";
import { REPO_ROOT, startServiceProcess } from "./ingest/start-service.js";

const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
// Set to a directory to get a V8 CPU profile of the service (node --cpu-prof) for the whole run.
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
// Extra node flags for the service, to try a runtime setting (e.g. --max-semi-space-size=64).
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
const MAX_UPLOAD_BYTES = 128 * 1024 * 1024;
const SERVICE_NODE_ARGS = [
  ...NODE_ARGS,
  ...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []),
];
const DB_NAME = "pp_bench_ingest";
const CONCURRENCY = 4;
const LOAD_CAP_MS = 180_000;
const COUNTS: Record<number, number> = { 250: 40, 2500: 20, 25000: 6 };
// Each group runs twice, the second round after all of the first, and each side keeps its faster
// round: noise from other work on a shared machine only ever slows a run down.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
// BENCH_SIZES=250,2500 runs only those groups, to try a change quickly; the bars need them all.
const SIZES = (process.env.BENCH_SIZES ?? Object.keys(COUNTS).join(",")).split(",").map(Number);
const GROUPS: GroupSpec[] = Object.entries(COUNTS)
  .filter(([size]) => SIZES.includes(Number(size)))
  .flatMap(([size, count]) =>
    (["trivy", "grype"] as const).map((shape) => ({ shape, size: Number(size), count })),
  );

const adminUrl = new URL(PG_ADMIN_URL);
const dbUrl = new URL(PG_ADMIN_URL);
dbUrl.pathname = `/${DB_NAME}`;

async function admin(sqlText: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl.toString() });
  await c.connect();
  try {
    await c.query(sqlText);
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const tmpDir = await mkdtemp(join(tmpdir(), "pp-bench-ingest-"));
  const redisPrefix = `ppbench:${randomBytes(5).toString("hex")}`;
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${DB_NAME}`);
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`));
    cleanups.push(() => clearRedisPrefix(REDIS_URL, redisPrefix));
    await runMigrations(dbUrl.toString());

    // Real-shaped 25,000-finding reports are 45–70 MB: past the 50 MB default, as they would be
    // for an operator, who raises scans.maxUploadBytes for fleets that produce them.
    const config = parseDocument(await readFile(join(REPO_ROOT, "patchpilot.example.yaml"), "utf8"));
    config.setIn(["scans", "maxUploadBytes"], MAX_UPLOAD_BYTES);
    const configFile = join(tmpDir, "patchpilot.yaml");
    await writeFile(configFile, config.toString());

    const slack = await startFakeSlack({ token: "xoxb-bench" });
    cleanups.push(() => slack.close());
    const service = await startServiceProcess(
      {
        DATABASE_URL: dbUrl.toString(),
        REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        PORT: "0",
        PATCHPILOT_CONFIG: configFile,
        SLACK_BOT_TOKEN: "xoxb-bench",
        SLACK_SIGNING_SECRET: "bench-signing-secret-5d1e",
        SLACK_API_URL: slack.url,
        LOG_LEVEL: "warn",
        SHUTDOWN_TIMEOUT_MS: "10000",
        SHUTDOWN_DRAIN_MS: "0",
      },
      { nodeArgs: SERVICE_NODE_ARGS },
    );
    cleanups.unshift(() => service.stop());
    const rss = startRssSampler(service.pid, 50);
    cleanups.unshift(async () => rss.stop());

    const owner = createDatabase(dbUrl.toString(), { appRole: false, max: 2 });
    cleanups.unshift(() => owner.close());
    const { token } = await createToken(owner.db, { teamId: "payments", name: "bench", scopes: ["upload"] });
    const pgVersion = await owner.pool.query<{ v: string }>("SELECT split_part(version(), ' on ', 1) AS v");

    await new Promise((r) => setTimeout(r, 1_000));
    const idleKb = rss.now();
    const baseUrl = `http://127.0.0.1:${service.port}`;
    const uploadUrl = `${baseUrl}/api/v1/scans`;
    const idleHeap = await readHeap(baseUrl);
    let digestCounter = 0x100;
    const nextDigest = () => digestCounter++;
    const deadline = performance.now() + LOAD_CAP_MS;

    // The largest report, one at a time, before any concurrent load: what a single upload costs
    // in memory (first, while the heap is as small as it will be). It also warms the service up.
    const probeSpec: GroupSpec = { shape: "grype", size: 25_000, count: 2, name: "probe" };
    const probe = await buildUploads(probeSpec, nextDigest, join(tmpDir, "probe.csv"));
    rss.resetPeak();
    const probeOut = await postUploads(uploadUrl, token, probe.uploads, { concurrency: 1, deadline });
    const probeHwmKb = rss.highWaterMark();
    // Small reports of both shapes, untimed, so the first measured group does not pay for JIT warm-up.
    let untimedFindings = probeOut.storedFindings;
    for (const shape of ["trivy", "grype"] as const) {
      const spec = { shape, size: 250, count: 20, name: `warm-up-${shape}` };
      const warm = await buildUploads(spec, nextDigest, join(tmpDir, "warm.csv"));
      untimedFindings += (
        await postUploads(uploadUrl, token, warm.uploads, { concurrency: CONCURRENCY, deadline })
      ).storedFindings;
    }

    const ctx = {
      baseUrl,
      uploadUrl,
      token,
      tmpDir,
      nextDigest,
      rss,
      servicePid: service.pid,
      owner: owner.pool,
      psql: { host: dbUrl.hostname, port: dbUrl.port || "5432", user: dbUrl.username, database: DB_NAME },
      concurrency: CONCURRENCY,
      deadline,
    };
    const results: GroupResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const g of GROUPS)
        results.push(await runGroup(ctx, { ...g, name: `${g.shape}-${g.size}-round${round}` }));
    }

    // Settled: what the service keeps once the load is over.
    await new Promise((r) => setTimeout(r, 2_000));
    const settled = { rssKb: rss.now(), heap: await readHeap(baseUrl) };
    const stored = await owner.pool.query<{ ours: string; copied: string }>(
      `SELECT count(*) FILTER (WHERE s.scanner_name <> 'copy-baseline') AS ours,
              count(*) FILTER (WHERE s.scanner_name = 'copy-baseline') AS copied
       FROM findings f JOIN scans s ON s.id = f.scan_id`,
    );

    printResults({
      date: started,
      cpus: availableParallelism(),
      machine: describeMachine(pgVersion.rows[0]?.v ?? "PostgreSQL ?"),
      concurrency: CONCURRENCY,
      serviceNodeArgs: SERVICE_NODE_ARGS,
      results,
      rss: {
        idleKb,
        idleHeap,
        settled,
        probeHwmKb,
        probeBody: probe.largestBody,
        probeErrors: probeOut.errors,
        probeLatenciesMs: probeOut.latenciesMs,
      },
      rowsInDb: { ours: Number(stored.rows[0]?.ours ?? 0), copied: Number(stored.rows[0]?.copied ?? 0) },
      untimedFindings,
      serviceOutput: service.output(),
    });
    if (SIZES.length < Object.keys(COUNTS).length)
      console.log(`PARTIAL RUN (BENCH_SIZES=${SIZES.join(",")}): not a verdict on the bars`);
  } finally {
    for (const c of cleanups) {
      try {
        await c();
      } catch (e) {
        process.stderr.write(`cleanup: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
    await rm(tmpDir, { recursive: true, force: true });
  }
}

await main();
