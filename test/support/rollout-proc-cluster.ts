import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { createLogger } from "../../src/adapters/logger.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { type Patchpilot, startPatchpilot } from "../../src/main.js";
import { createToken } from "../../src/services/upload-tokens.js";
import { createTestDatabase, REDIS_TEST_URL, type TestDatabase, uniqueRedisPrefix } from "./databases.js";
import { type FakeGithub, startFakeGithub } from "./fake-github.js";
import { type FakeSlack, startFakeSlack } from "./fake-slack.js";
import { freePort } from "./private-redis.js";
import { digestOf, trivyReport } from "./report-builders.js";
import { GITHUB_TOKEN, USERS, type User, WEBHOOK_SECRET } from "./rollout-harness.js";
import { githubDelivery } from "./sign-github.js";
import { blockActionPayload, blockActions, postSigned, slashCommand } from "./sign-slack.js";
import { type CliProcess, spawnCli, waitFor } from "./spawn-cli.js";
import { TEST_BOT_TOKEN, TEST_SIGNING_SECRET, writeTestConfig } from "./test-app.js";

const FAST_STALL = fileURLToPath(new URL("./rollout-proc-fast-stall.mjs", import.meta.url));

/**
 * `count` images (img-01…) of team payments, each with its own repo and workflows; the rebuild is
 * dispatched as the rollout starts, staging needs one approval. (A rebuild needing an approval
 * cannot be approved today: see the report on approve-stage.ts.)
 */
export function manyImagesConfig(count: number): string {
  const images = Array.from({ length: count }, (_, i) => imageId(i + 1))
    .map(
      (id) => `  - id: ${id}
    repository: ghcr.io/acme/${id}
    team: payments
    github:
      repo: acme/${id}
      workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml }`,
    )
    .join("\n");
  return `
version: 1
teams:
  - id: payments
    name: Payments
    channel: C0PAYMENTS
    approvers: { groups: [S0PAYAPPR], users: [] }
images:
${images}
defaultStages: [rebuild, staging]
stages:
  rebuild: { approvals: 0 }
  staging: { approvals: 1 }
`;
}

export const imageId = (n: number): string => `img-${String(n).padStart(2, "0")}`;

export type RolloutProc = { cli: CliProcess; baseUrl: string; kill(signal?: NodeJS.Signals): Promise<void> };

export type ProcCluster = {
  env: Record<string, string>;
  github: FakeGithub;
  slack: FakeSlack;
  database: TestDatabase;
  /** The database owner's connection, for assertions. */
  owner: Database;
  /** `patchpilot web`, ready. */
  spawnWeb(): Promise<RolloutProc>;
  /** `patchpilot worker`; `fastStall` scales BullMQ's lock/stall timing down (rollout-proc-fast-stall.mjs). */
  spawnWorker(opts?: { fastStall?: boolean; waitReady?: boolean }): Promise<RolloutProc>;
  /** patchpilot with role "all" in this process, with env overrides (a proxied DATABASE_URL, …). */
  startInProcess(
    env?: Record<string, string>,
    role?: "all" | "web" | "worker",
  ): Promise<{ app: Patchpilot; baseUrl: string; logs: string[] }>;
  /** Uploads a scan of image n at digest 1, so the image is synced and a rollout can start. */
  syncImages(baseUrl: string, count: number): Promise<void>;
  /** `/patch rollout img-nn` as lee; returns the rollout id. */
  startRollout(baseUrl: string, n: number): Promise<number>;
  /** Completes the rebuild (candidate digest 2 uploaded, run succeeded, webhook) so staging awaits approval. */
  finishRebuild(baseUrl: string, n: number, rolloutId: number): Promise<void>;
  /** An approve click on the rollout's staging stage; resolves to the answer's text. */
  approveStaging(baseUrl: string, rolloutId: number, user?: User): Promise<string>;
  /** A slash command as lee in C0PAYMENTS; returns the immediate answer's text. */
  patch(baseUrl: string, text: string): Promise<string>;
  /** Stage states by rollout id. */
  stages(name: string): Promise<Map<number, { state: string; dispatchId: string | null }>>;
  close(): Promise<void>;
};

export async function startProcCluster(opts: { yaml: string; redisUrl?: string }): Promise<ProcCluster> {
  const database = await createTestDatabase();
  const slack = await startFakeSlack({ token: TEST_BOT_TOKEN });
  const github = await startFakeGithub({ token: GITHUB_TOKEN });
  slack.setUsergroupMembers("S0PAYAPPR", [USERS.maria.id, USERS.omar.id]);
  const owner = createDatabase(database.url, { appRole: false, max: 3 });
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: opts.redisUrl ?? REDIS_TEST_URL,
    REDIS_PREFIX: uniqueRedisPrefix(),
    PATCHPILOT_CONFIG: await writeTestConfig(opts.yaml),
    SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    GITHUB_TOKEN,
    GITHUB_API_URL: github.url,
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    LOG_LEVEL: "warn",
    SHUTDOWN_TIMEOUT_MS: "2000",
    SHUTDOWN_DRAIN_MS: "0",
  };
  const procs: RolloutProc[] = [];
  const inProcess: Patchpilot[] = [];
  let uploadToken: string | undefined;

  async function spawnRole(role: "web" | "worker", extra: Record<string, string>, waitReady = true) {
    const port = await freePort();
    const cli = spawnCli([role], { ...env, PORT: String(port), ...extra });
    const baseUrl = `http://127.0.0.1:${port}`;
    const proc: RolloutProc = {
      cli,
      baseUrl,
      kill: async (signal = "SIGKILL") => {
        if (cli.proc.exitCode !== null || cli.proc.signalCode !== null) return;
        cli.proc.kill(signal);
        await cli.exited;
      },
    };
    procs.push(proc);
    if (waitReady)
      await waitFor(
        async () => (await fetch(`${baseUrl}/readyz`).catch(() => null))?.status === 200,
        90_000,
        `${role} ready (stderr: ${cli.stderr()})`,
      );
    return proc;
  }

  async function token(): Promise<string> {
    uploadToken ??= (await createToken(owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] }))
      .token;
    return uploadToken;
  }

  async function stages(name: string): Promise<Map<number, { state: string; dispatchId: string | null }>> {
    const r = await owner.pool.query<{ rollout_id: number; state: string; dispatch_id: string | null }>(
      "SELECT rollout_id, state, dispatch_id FROM rollout_stages WHERE name = $1",
      [name],
    );
    return new Map(r.rows.map((row) => [row.rollout_id, { state: row.state, dispatchId: row.dispatch_id }]));
  }

  return {
    env,
    github,
    slack,
    database,
    owner,
    spawnWeb: () => spawnRole("web", {}),
    spawnWorker: (o = {}) =>
      spawnRole("worker", o.fastStall ? { NODE_OPTIONS: `--import ${FAST_STALL}` } : {}, o.waitReady ?? true),
    async startInProcess(overrides = {}, role = "all") {
      const logs: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, cb) {
          logs.push(...String(chunk).split("\n").filter(Boolean));
          cb();
        },
      });
      const app = await startPatchpilot({
        role,
        env: { ...env, PORT: "0", ...overrides },
        logger: createLogger("debug", sink),
      });
      inProcess.push(app);
      return { app, baseUrl: `http://127.0.0.1:${app.port}`, logs };
    },
    async syncImages(baseUrl, count) {
      const bearer = await token();
      for (let n = 1; n <= count; n++) {
        const r = await fetch(`${baseUrl}/api/v1/scans`, {
          method: "POST",
          headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
          body: JSON.stringify(
            trivyReport({ image: `ghcr.io/acme/${imageId(n)}:1.0`, digest: digestOf(1), vulns: [] }),
          ),
        });
        expect([200, 201]).toContain(r.status);
      }
    },
    async startRollout(baseUrl, n) {
      const res = await postSigned(
        baseUrl,
        "/slack/events",
        slashCommand(
          {
            text: `rollout ${imageId(n)} --reason "fault test"`,
            channelId: "C0PAYMENTS",
            userId: USERS.lee.id,
            userName: USERS.lee.name,
          },
          TEST_SIGNING_SECRET,
        ),
      );
      expect(res.status).toBe(200);
      const text = (res.json as { text?: string } | undefined)?.text ?? res.text;
      const m = /Rollout #(\d+) of img-\d+ started/.exec(text);
      if (!m) throw new Error(`rollout of ${imageId(n)} did not start: ${text}`);
      return Number(m[1]);
    },
    async finishRebuild(baseUrl, n, rolloutId) {
      const build = () => github.dispatches().find((d) => d.inputs.rollout_id === String(rolloutId));
      await waitFor(() => build() !== undefined, 20_000, `the rebuild of #${rolloutId}`);
      const r = await fetch(`${baseUrl}/api/v1/scans?rollout_id=${rolloutId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${await token()}`, "content-type": "application/json" },
        body: JSON.stringify(
          trivyReport({ image: `ghcr.io/acme/${imageId(n)}:1.0`, digest: digestOf(2), vulns: [] }),
        ),
      });
      expect([200, 201]).toContain(r.status);
      const run = github.completeRun(build()?.runId ?? 0, "success");
      const hook = await postSigned(
        baseUrl,
        "/github/webhooks",
        await githubDelivery(
          "workflow_run",
          { action: "completed", workflow_run: run, repository: run.repository },
          WEBHOOK_SECRET,
        ),
      );
      expect(hook.status).toBe(200);
      await waitFor(
        async () => (await stages("staging")).get(rolloutId)?.state === "awaiting_approval",
        10_000,
        `staging of #${rolloutId} awaiting approval`,
      );
    },
    async approveStaging(baseUrl, rolloutId, user = USERS.maria) {
      const responseUrl = slack.responseUrl();
      const payload = blockActionPayload({
        actionId: "rollout_approve",
        value: JSON.stringify({ rollout: rolloutId, stage: "staging", digest: digestOf(2) }),
        userId: user.id,
        userName: user.name,
        channelId: "C0PAYMENTS",
        responseUrl,
      });
      const res = await postSigned(baseUrl, "/slack/events", blockActions(payload, TEST_SIGNING_SECRET));
      expect(res.status).toBe(200);
      const path = new URL(responseUrl).pathname;
      const mine = () => slack.callsTo("response_url").filter((c) => c.args.path === path);
      await waitFor(() => mine().length > 0, 10_000, `an answer to the approval of #${rolloutId}`);
      return mine()
        .map((c) => String(c.args.text ?? ""))
        .join("\n");
    },
    async patch(baseUrl, text) {
      const res = await postSigned(
        baseUrl,
        "/slack/events",
        slashCommand(
          { text, channelId: "C0PAYMENTS", userId: USERS.lee.id, userName: USERS.lee.name },
          TEST_SIGNING_SECRET,
        ),
      );
      expect(res.status).toBe(200);
      return (res.json as { text?: string } | undefined)?.text ?? res.text;
    },
    stages,
    async close() {
      await Promise.all(procs.map((p) => p.kill("SIGKILL")));
      await Promise.all(inProcess.map((a) => a.close().catch(() => undefined)));
      inProcess.length = 0;
      await owner.close();
      await github.close();
      await slack.close();
      await database.drop();
    },
  };
}
