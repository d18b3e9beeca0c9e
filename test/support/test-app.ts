import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "../../src/adapters/logger.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { type Patchpilot, startPatchpilot } from "../../src/main.js";
import { createTestDatabase, REDIS_TEST_URL, type TestDatabase, uniqueRedisPrefix } from "./databases.js";
import { type FakeSlack, startFakeSlack } from "./fake-slack.js";

export const TEST_SIGNING_SECRET = "test-signing-secret-8f2a1c";
export const TEST_BOT_TOKEN = "xoxb-test";

export type TestApp = {
  baseUrl: string;
  app: Patchpilot;
  slack: FakeSlack;
  database: TestDatabase;
  /** A connection as the database owner, for assertions (not the app's restricted role). */
  owner: Database;
  env: Record<string, string>;
  logLines: string[];
  close(): Promise<void>;
};

/** Writes a config file for a test: the example file, or the given YAML text. */
export async function writeTestConfig(yaml?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pp-test-"));
  const file = join(dir, "patchpilot.yaml");
  // The example's base images live on Docker Hub: tests never ask a registry on the internet.
  // The example's base images live on Docker Hub: tests never ask a registry on the internet, so
  // a config's freshness checks are off unless it says `enabled: true` (as the drift tests do).
  const source = yaml ?? (await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8"));
  if (yaml === undefined && !source.includes("freshness:\n"))
    throw new Error("patchpilot.example.yaml has no freshness: section for the tests to turn off");
  const text = /freshness:\n\s+enabled:/.test(source)
    ? source
    : source.replace("freshness:\n", "freshness:\n  enabled: false\n");
  await writeFile(file, text);
  return file;
}

/**
 * patchpilot running in this process against a fresh database, its own Redis prefix and a
 * fake Slack; log lines are captured so tests can check them (e.g. for leaked secrets).
 */
export async function startTestApp(
  opts: { role?: "all" | "web" | "worker"; env?: Record<string, string>; now?: () => Date } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const slack = await startFakeSlack({ token: TEST_BOT_TOKEN });
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: REDIS_TEST_URL,
    REDIS_PREFIX: uniqueRedisPrefix(),
    PORT: "0",
    PATCHPILOT_CONFIG: await writeTestConfig(),
    SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "5000",
    SHUTDOWN_DRAIN_MS: "0",
    ...opts.env,
  };
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const app = await startPatchpilot({
    role: opts.role ?? "all",
    env,
    logger: createLogger("debug", sink),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const owner = createDatabase(database.url, { appRole: false, max: 2 });
  return {
    baseUrl: `http://127.0.0.1:${app.port}`,
    app,
    slack,
    database,
    owner,
    env,
    logLines,
    async close() {
      await app.close();
      await owner.close();
      await slack.close();
      await database.drop();
    },
  };
}
