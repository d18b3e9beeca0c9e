import { expect } from "vitest";
import { createToken } from "../../src/services/upload-tokens.js";
import { type FakeGithub, type FakeRun, startFakeGithub } from "./fake-github.js";
import type { RecordedCall } from "./fake-slack.js";
import { digestOf, type SyntheticVuln, trivyReport } from "./report-builders.js";
import { githubDelivery } from "./sign-github.js";
import { blockActionPayload, blockActions, postSigned, slashCommand } from "./sign-slack.js";
import { waitFor } from "./spawn-cli.js";
import { startTestApp, TEST_SIGNING_SECRET, type TestApp, writeTestConfig } from "./test-app.js";

export const WEBHOOK_SECRET = "test-webhook-secret-5d1e";
export const GITHUB_TOKEN = "github-test-not-a-real-token";

/**
 * A small fleet for rollout tests: one team, one image with build/deploy/rollback workflows, and
 * stages without windows unless the test's YAML adds them. Approvers: S0PAYAPPR (maria, omar),
 * security S0SECURITY (sec); lee starts rollouts.
 */
export const ROLLOUT_CONFIG = `
version: 1
teams:
  - id: payments
    name: Payments
    channel: C0PAYMENTS
    approvers: { groups: [S0PAYAPPR], users: [] }
images:
  - id: payments-api
    repository: ghcr.io/acme/payments-api
    team: payments
    github:
      repo: acme/payments-api
      workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml }
defaultStages: [rebuild, staging, production]
stages:
  rebuild: { approvals: 0 }
  staging: { approvals: 1 }
  production:
    approvals: 2
    requiredGroups: [S0SECURITY]
    confirm: true
`;

export const USERS = {
  lee: { id: "U0LEE", name: "lee" },
  maria: { id: "U0MARIA", name: "maria" },
  omar: { id: "U0OMAR", name: "omar" },
  sec: { id: "U0SEC", name: "sec" },
  outsider: { id: "U0OUT", name: "outsider" },
} as const;
export type User = { id: string; name: string };

export type RolloutHarness = {
  t: TestApp;
  github: FakeGithub;
  uploadToken: string;
  patch(text: string, user?: User): Promise<{ text?: string; response_type?: string }>;
  /** Clicks a button; returns what the app answered to the clicker (response_url), once it has. */
  click(actionId: string, value: unknown, user: User, opts?: { wait?: boolean }): Promise<string>;
  /** Uploads a scan of payments-api at digest n, optionally for a rollout (the build's upload). */
  upload(digestNumber: number, vulns: SyntheticVuln[], rolloutId?: number): Promise<void>;
  /** Delivers a signed workflow_run webhook for a run as the fake GitHub has it now. */
  webhook(
    run: FakeRun,
    action: string,
    opts?: { deliveryId?: string },
  ): Promise<{ status: number; json: unknown }>;
  waitForDispatches(n: number): Promise<ReturnType<FakeGithub["dispatches"]>>;
  stageState(rolloutId: number, stage: string): Promise<string | undefined>;
  auditActions(rolloutId: number): Promise<Array<{ action: string; outcome: string; actor_id: string }>>;
  cardText(): string;
  close(): Promise<void>;
};

export async function startRolloutHarness(
  opts: { yaml?: string; now?: () => Date; env?: Record<string, string> } = {},
): Promise<RolloutHarness> {
  const github = await startFakeGithub({ token: GITHUB_TOKEN });
  const t = await startTestApp({
    env: {
      PATCHPILOT_CONFIG: await writeTestConfig(opts.yaml ?? ROLLOUT_CONFIG),
      GITHUB_TOKEN,
      GITHUB_API_URL: github.url,
      GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...opts.env,
    },
    ...(opts.now ? { now: opts.now } : {}),
  });
  t.slack.setUsergroupMembers("S0PAYAPPR", [USERS.maria.id, USERS.omar.id, USERS.lee.id]);
  t.slack.setUsergroupMembers("S0SECURITY", [USERS.sec.id]);
  const uploadToken = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] }))
    .token;
  const answers = (): RecordedCall[] => t.slack.callsTo("response_url");

  const h: RolloutHarness = {
    t,
    github,
    uploadToken,
    async patch(text, user = USERS.lee) {
      const res = await postSigned(
        t.baseUrl,
        "/slack/events",
        slashCommand(
          { text, channelId: "C0PAYMENTS", userId: user.id, userName: user.name },
          TEST_SIGNING_SECRET,
        ),
      );
      expect(res.status).toBe(200);
      return res.json as { text?: string; response_type?: string };
    },
    async click(actionId, value, user, o = {}) {
      const before = answers().length;
      const responseUrl = t.slack.responseUrl();
      const payload = blockActionPayload({
        actionId,
        value: typeof value === "string" ? value : JSON.stringify(value),
        userId: user.id,
        userName: user.name,
        channelId: "C0PAYMENTS",
        responseUrl,
      });
      const res = await postSigned(t.baseUrl, "/slack/events", blockActions(payload, TEST_SIGNING_SECRET));
      expect(res.status).toBe(200);
      if (o.wait === false) return "";
      const mine = () => answers().filter((c) => c.args.path === new URL(responseUrl).pathname);
      await waitFor(
        () => mine().length > 0 || answers().length > before + 50,
        10_000,
        `an answer to ${actionId}`,
      );
      return mine()
        .map((c) => String(c.args.text ?? ""))
        .join("\n");
    },
    async upload(digestNumber, vulns, rolloutId) {
      const q = rolloutId === undefined ? "" : `?rollout_id=${rolloutId}`;
      const r = await fetch(`${t.baseUrl}/api/v1/scans${q}`, {
        method: "POST",
        headers: { authorization: `Bearer ${uploadToken}`, "content-type": "application/json" },
        body: JSON.stringify(
          trivyReport({ image: "ghcr.io/acme/payments-api:1.0", digest: digestOf(digestNumber), vulns }),
        ),
      });
      expect([200, 201]).toContain(r.status);
    },
    async webhook(run, action, o = {}) {
      const req = await githubDelivery(
        "workflow_run",
        { action, workflow_run: run, repository: run.repository },
        WEBHOOK_SECRET,
        o.deliveryId ? { deliveryId: o.deliveryId } : {},
      );
      const res = await postSigned(t.baseUrl, "/github/webhooks", req);
      return { status: res.status, json: res.json };
    },
    async waitForDispatches(n) {
      await waitFor(() => github.dispatches().length >= n, 15_000, `${n} dispatches`);
      return github.dispatches();
    },
    async stageState(rolloutId, stage) {
      const r = await t.owner.pool.query<{ state: string }>(
        "SELECT state FROM rollout_stages WHERE rollout_id = $1 AND name = $2",
        [rolloutId, stage],
      );
      return r.rows[0]?.state;
    },
    async auditActions(rolloutId) {
      const r = await t.owner.pool.query<{ action: string; outcome: string; actor_id: string }>(
        "SELECT action, outcome, actor_id FROM audit_events WHERE resource->>'rollout' = $1 ORDER BY seq",
        [String(rolloutId)],
      );
      return r.rows;
    },
    cardText() {
      const card = t.slack.messages("C0PAYMENTS").find((m) => /Rollout #/.test(m.text ?? "") && !m.thread_ts);
      return card ? `${card.text}\n${JSON.stringify(card.blocks)}` : "";
    },
    async close() {
      await t.close();
      await github.close();
    },
  };
  return h;
}

export { digestOf };

/**
 * "Lets time pass" for dispatch intents held by a window or a freeze. The app decides with its
 * injected clock, but a held intent is parked two ways the test clock cannot reach: its outbox
 * row's `available_at` is compared with the DATABASE clock (readIntent), and its BullMQ delivery
 * job is delayed by the wall clock (deliver-outbox defers with `now() + dueIn`, which with a test
 * clock ahead of the wall clock lands days away). So: make every pending github.dispatch intent
 * due by the database clock, and queue one fresh delivery job per intent (a new job id, since the
 * parked job still holds the intent's usual one). dispatch-stage then re-checks window and freeze
 * with the app clock, so moving the app clock stays the test's decision. Returns the intent ids.
 */
export async function deliverHeldDispatches(h: RolloutHarness): Promise<number[]> {
  await h.t.owner.pool.query(
    "UPDATE outbox SET available_at = now() WHERE kind = 'github.dispatch' AND status = 'pending'",
  );
  return requeuePendingIntents(h, ["github.dispatch"], { awaitHandled: true });
}

/**
 * Queues one fresh delivery job for every pending intent of these kinds. Needed with a test clock
 * ahead of the wall clock: an effect that answers NotYet (a paced Slack channel, a held dispatch)
 * is parked by deliver-outbox until `now() + wait` on the app clock, which BullMQ reads as a wall
 * clock time days away.
 */
export async function requeuePendingIntents(
  h: RolloutHarness,
  kinds: readonly string[],
  opts: { awaitHandled?: boolean } = {},
): Promise<number[]> {
  const { createJobQueues, createRedis } = await import("../../src/jobs/job-queues.js");
  const { Queue } = await import("bullmq");
  const rows = await h.t.owner.pool.query<{ id: number }>(
    "SELECT id FROM outbox WHERE status = 'pending' AND kind = ANY($1::text[]) ORDER BY id",
    [kinds],
  );
  const ids = rows.rows.map((r) => Number(r.id));
  if (ids.length === 0) return ids;
  const connection = createRedis(h.t.env.REDIS_URL ?? "", {});
  await connection.connect();
  const queues = createJobQueues({ connection, prefix: h.t.env.REDIS_PREFIX ?? "" });
  try {
    const nonce = `${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
    const jobIds = ids.map((outboxId) => `test-release-${outboxId}-${nonce}`);
    await queues.enqueueMany(
      "deliver-outbox",
      ids.map((outboxId, i) => ({ payload: { outboxId }, jobId: jobIds[i] ?? "" })),
    );
    // Handled = the worker ran it: completed (done or skipped), failed, or parked again (delayed).
    if (opts.awaitHandled) {
      const effects = new Queue("effects", { connection, prefix: h.t.env.REDIS_PREFIX ?? "" });
      try {
        await waitFor(
          async () => {
            const states = await Promise.all(jobIds.map(async (j) => (await effects.getJob(j))?.getState()));
            return states.every((st) => st === "completed" || st === "failed" || st === "delayed");
          },
          10_000,
          "the released deliveries to be handled",
        );
      } finally {
        await effects.close();
      }
    }
  } finally {
    await queues.close();
    connection.disconnect();
  }
  return ids;
}

/** Waits until the rollout card matches, re-queuing card updates a test clock ahead of the wall clock parked. */
export async function waitForCard(
  h: RolloutHarness,
  pattern: RegExp | string,
  what: string,
): Promise<string> {
  const matches = () =>
    typeof pattern === "string" ? h.cardText().includes(pattern) : pattern.test(h.cardText());
  let last = 0;
  await waitFor(
    async () => {
      if (matches()) return true;
      if (Date.now() - last > 1_000) {
        last = Date.now();
        await requeuePendingIntents(h, ["rollout.card"]);
      }
      return false;
    },
    10_000,
    what,
  );
  return h.cardText();
}

/** The fake GitHub's dispatches for one rollout, optionally for one stage. */
export function dispatchesOf(h: RolloutHarness, rolloutId: number, stage?: string) {
  return h.github
    .dispatches()
    .filter(
      (d) => d.inputs.rollout_id === String(rolloutId) && (stage === undefined || d.inputs.stage === stage),
    );
}

/**
 * Starts a rollout of payments-api as `by` (lee by default), uploads candidate digest `candidate`
 * for it and completes the rebuild through a webhook: the stage after the rebuild then awaits approval.
 */
export async function startToFirstApproval(
  h: RolloutHarness,
  opts: { candidate: number; by?: User; vulns?: SyntheticVuln[] },
): Promise<number> {
  const started = await h.patch('rollout payments-api --reason "test"', opts.by ?? USERS.lee);
  const rolloutId = Number(/Rollout #(\d+) of payments-api started/.exec(started.text ?? "")?.[1]);
  expect(rolloutId, started.text).toBeGreaterThan(0);
  await waitFor(() => dispatchesOf(h, rolloutId, "rebuild").length > 0, 15_000, "the rebuild dispatch");
  await h.upload(opts.candidate, opts.vulns ?? [], rolloutId);
  const build = dispatchesOf(h, rolloutId, "rebuild")[0];
  const hook = await h.webhook(h.github.completeRun(build?.runId ?? 0, "success"), "completed");
  expect(hook.status).toBe(200);
  return rolloutId;
}

/** Every audit row about one rollout, oldest first (seq order), with all its columns. */
export async function auditRowsOf(
  h: RolloutHarness,
  rolloutId: number,
): Promise<
  Array<{
    seq: number;
    at: Date;
    actor_id: string;
    actor_name: string | null;
    action: string;
    outcome: string;
    origin: Record<string, unknown>;
    resource: Record<string, unknown>;
    payload: Record<string, unknown>;
  }>
> {
  const r = await h.t.owner.pool.query(
    "SELECT seq, at, actor_id, actor_name, action, outcome, origin, resource, payload FROM audit_events WHERE resource->>'rollout' = $1 ORDER BY seq",
    [String(rolloutId)],
  );
  return r.rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}

/**
 * Ends a rollout so another of the same image can start: completes any running stage's run through
 * a webhook, then cancels what is left (as maria). Returns the rollout's final state.
 */
export async function finishRollout(h: RolloutHarness, rolloutId: number): Promise<string> {
  const stateOf = async () =>
    (await h.t.owner.pool.query<{ state: string }>("SELECT state FROM rollouts WHERE id = $1", [rolloutId]))
      .rows[0]?.state ?? "";
  for (let i = 0; i < 6; i++) {
    const state = await stateOf();
    if (!["active", "halted", "rolling_back"].includes(state)) return state;
    const running = await h.t.owner.pool.query<{ name: string; run_id: string | null }>(
      "SELECT name, run_id FROM rollout_stages WHERE rollout_id = $1 AND state IN ('approved', 'dispatched', 'deploying') ORDER BY position",
      [rolloutId],
    );
    const stage = running.rows[0];
    if (stage) {
      await waitFor(
        async () =>
          (
            await h.t.owner.pool.query(
              "SELECT 1 FROM rollout_stages WHERE rollout_id = $1 AND name = $2 AND run_id IS NOT NULL",
              [rolloutId, stage.name],
            )
          ).rowCount === 1,
        15_000,
        `the run of ${stage.name}`,
      );
      const d = dispatchesOf(h, rolloutId, stage.name).at(-1);
      await h.webhook(h.github.completeRun(d?.runId ?? 0, "success"), "completed");
      continue;
    }
    await h.click("rollout_cancel", { rollout: rolloutId, stage: "rebuild", digest: null }, USERS.maria);
  }
  return stateOf();
}
