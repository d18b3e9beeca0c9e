// `npm run demo`: patchpilot with no Slack workspace. It starts the real service against an
// in-process fake Slack, on a demo database of the local Postgres and a Redis prefix of its own,
// sends it requests signed exactly as Slack signs them, and prints every answer and message.
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import pg from "pg";
import { createLogger } from "../src/adapters/logger.js";
import { startPatchpilot } from "../src/main.js";
import { startFakeSlack } from "../test/support/fake-slack.js";
import { postSigned, slashCommand } from "../test/support/sign-slack.js";
import { printSlackMessage } from "./print-slack-message.js";

const PG = process.env.DEMO_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.DEMO_REDIS_URL ?? "redis://127.0.0.1:6379";
const DEMO_DB = "patchpilot_demo";
const SECRET = "demo-signing-secret-not-secret";
const TOKEN = "xoxb-demo-not-a-real-token";
const PREFIX = "patchpilot-demo";

async function freshDemoDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DEMO_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DEMO_DB}`);
  } finally {
    await admin.end();
  }
  const u = new URL(PG);
  u.pathname = `/${DEMO_DB}`;
  return u.toString();
}

async function clearDemoQueues(): Promise<void> {
  const r = new Redis(REDIS_URL);
  const keys = await r.keys(`${PREFIX}:*`);
  if (keys.length > 0) await r.del(...keys);
  r.disconnect();
}

const started = Date.now();
const slack = await startFakeSlack({ token: TOKEN });
const databaseUrl = await freshDemoDatabase();
await clearDemoQueues();
const quiet = new Writable({ write: (_c, _e, cb) => cb() });
const app = await startPatchpilot({
  role: "all",
  env: {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_PREFIX: PREFIX,
    PORT: "0",
    PATCHPILOT_CONFIG: new URL("../patchpilot.example.yaml", import.meta.url).pathname,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    LOG_LEVEL: "warn",
  },
  logger: createLogger("warn", quiet),
});
const base = `http://127.0.0.1:${app.port}`;
console.log(
  `patchpilot is running on ${base} with the example config (${app.config.teams.length} teams, ${app.config.images.length} images).\n`,
);

for (const text of ["help", "stauts payments-api"]) {
  const res = await postSigned(
    base,
    "/slack/events",
    slashCommand({ text, userId: "U0DEMO", userName: "maria" }, SECRET),
  );
  console.log(
    printSlackMessage(
      `/patch ${text}  →  HTTP ${res.status}, visible only to @maria`,
      res.json as { text?: string; blocks?: unknown[] },
    ),
  );
  console.log();
}

for (const call of slack.calls.filter((c) => c.method === "chat.postMessage")) {
  console.log(
    printSlackMessage(
      `posted in ${String(call.args.channel)}`,
      call.args as { text?: string; blocks?: unknown[] },
    ),
  );
}

await app.close();
await slack.close();
console.log(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
