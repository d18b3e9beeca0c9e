import { parseArgs } from "node:util";
import { createLogger } from "./adapters/logger.js";
import { StartupError } from "./adapters/redis-eviction-check.js";
import { auditCommand } from "./cli/audit-command.js";
import { ingestCommand } from "./cli/ingest-command.js";
import { tokenCommand } from "./cli/token-command.js";
import { vexCommand } from "./cli/vex-command.js";
import { ConfigError, loadConfig } from "./config/env.js";
import { loadConfigFile, parseConfigText } from "./config/load-config-file.js";
import { runMigrations } from "./db/migrate.js";
import { startPatchpilot } from "./main.js";

const USAGE = `Usage: patchpilot <command>

  start                 HTTP server and workers in one process (npm start)
  web                   HTTP server only
  worker                background workers only
  migrate               apply database migrations
  config check [FILE]   validate a config file (default: $PATCHPILOT_CONFIG or patchpilot.yaml)
  ingest FILE [--image REF] [--digest sha256:…] [--team ID]
                        ingest a scan report, as POST /api/v1/scans does
  vex import FILE [--team ID]         record OpenVEX / CycloneDX VEX decisions
  vex export --image REF              accepted risks and VEX decisions as OpenVEX
  token create --team ID [--name N] [--scope upload|audit]
                        print a new scan-upload (or audit) token, once
  token revoke ID | token list
  audit verify [--head SEQ:HASH]      walk the audit hash chain; exit 1 at the first broken row
  audit export [--from ISO] [--to ISO] [--format jsonl|csv]

Environment: DATABASE_URL, REDIS_URL, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, … (see README).`;

type Io = { out: (s: string) => void; err: (s: string) => void };
const stdio: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };

/** Every CLI command; returns the exit code. Errors are messages, never stack traces. */
export async function runCli(
  argv: string[],
  io: Io = stdio,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "start":
      case "web":
      case "worker":
        return await serve(command === "start" ? "all" : command, env, io);
      case "migrate": {
        const cfg = loadConfig(env, "tool");
        const r = await runMigrations(cfg.DATABASE_URL);
        io.out(r.applied === 0 ? "Database is up to date." : `Applied ${r.applied} migration(s).`);
        return 0;
      }
      case "config":
        return await configCommand(rest, env, io);
      case "ingest": {
        const cfg = loadConfig(env, "tool");
        const config = await loadConfigFile(cfg.PATCHPILOT_CONFIG);
        return await ingestCommand(rest, io, {
          databaseUrl: cfg.DATABASE_URL,
          maxBytes: config.scans.maxUploadBytes,
          now: () => new Date(),
        });
      }
      case "vex": {
        const cfg = loadConfig(env, "tool");
        const config = await loadConfigFile(cfg.PATCHPILOT_CONFIG);
        return await vexCommand(rest, io, { databaseUrl: cfg.DATABASE_URL, config, now: () => new Date() });
      }
      case "audit":
        return await auditCommand(rest, io, loadConfig(env, "tool").DATABASE_URL);
      case "token":
        return await tokenCommand(rest, io, loadConfig(env, "tool").DATABASE_URL, () => new Date());
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`Unknown command "${command}".\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    return reportFailure(e, io);
  }
}

function reportFailure(e: unknown, io: Io): number {
  if (e instanceof ConfigError) {
    io.err(`Cannot start: ${e.source} has ${e.problems.length} problem(s):`);
    for (const p of e.problems) io.err(`  ${p.path}: ${p.message}`);
    return 1;
  }
  if (e instanceof StartupError) {
    io.err(`Cannot start: ${e.message}`);
    return 1;
  }
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || /connect/i.test(msg)) {
    io.err(
      `Cannot reach a service patchpilot needs: ${msg}. Check DATABASE_URL and REDIS_URL and that both servers run.`,
    );
    return 1;
  }
  io.err(`Failed: ${msg}`);
  return 1;
}

async function configCommand(args: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  if (positionals[0] !== "check") {
    io.err("Usage: patchpilot config check [FILE]");
    return 2;
  }
  const file = positionals[1] ?? env.PATCHPILOT_CONFIG ?? "patchpilot.yaml";
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    io.err(`${file}: cannot read the file (does it exist?)`);
    return 1;
  }
  const r = parseConfigText(text);
  if (!r.ok) {
    io.err(`${file}: ${r.problems.length} problem(s)`);
    for (const p of r.problems) io.err(`  ${p.path}: ${p.message}`);
    return 1;
  }
  const c = r.config;
  io.out(
    `${file}: OK — ${c.teams.length} teams, ${c.images.length} images, ${Object.keys(c.stages).length} stage policies, ` +
      `${Object.keys(c.windows).length} windows, ${c.freezes.length} freezes, ${c.digests.length} digest subscriptions, ` +
      `${Object.keys(c.healthChecks).length} health checks`,
  );
  return 0;
}

async function serve(role: "all" | "web" | "worker", env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const cfg = loadConfig(env, role);
  const logger = createLogger(cfg.LOG_LEVEL);
  const app = await startPatchpilot({ role, env, logger });
  io.err(`patchpilot ${role === "all" ? "start" : role} ready on port ${app.port}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await app.close();
  return 0;
}
