import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/adapters/logger.js";
import { createPrometheusClient } from "../../src/adapters/prometheus/prometheus-client.js";
import { ROLLOUT_ACTIONS } from "../../src/core/rollout/rollout-card-view.js";
import type { StageHealth } from "../../src/core/rollout/stage-health.js";
import { startPatchpilot } from "../../src/main.js";
import { reviveFailedGates } from "../../src/services/rollouts/health-gate.js";
import type { RolloutDeps } from "../../src/services/rollouts/rollout-deps.js";
import {
  type MetricsTarget,
  type RunningPrometheus,
  startMetricsTarget,
  startPrometheus,
  waitForSeries,
} from "../support/prometheus.js";
import { digestOf, trivyReport } from "../support/report-builders.js";
import {
  auditRowsOf,
  dispatchesOf,
  type RolloutHarness,
  requeuePendingIntents,
  startRolloutHarness,
  USERS,
} from "../support/rollout-harness.js";
import { waitFor } from "../support/spawn-cli.js";

/**
 * Post-deploy health gates end to end (issue #6): a deployed stage bakes, then Debian's real
 * Prometheus (/usr/bin/prometheus, scraping a target whose request counters the test drives every
 * second) judges it. One image per scenario, each with its own stage policy, all in one config so
 * one app and one Prometheus serve the file. The restart scenario has its own app (same Prometheus)
 * and runs alongside the others: it mostly waits for the outbox reconciler (every 15 s).
 */
const RATE = "10s";
const ERROR_RATIO = (label: string) =>
  `sum(rate(http_requests_total{image="{{image}}",stage="${label}",code=~"5.."}[${RATE}])) / sum(rate(http_requests_total{image="{{image}}",stage="${label}"}[${RATE}]))`;
const REQUESTS = (label: string) =>
  `sum(increase(http_requests_total{image="{{image}}",stage="${label}"}[${RATE}]))`;

function config(promUrl: string, bake = "3s"): string {
  const image = (id: string, stages?: string) => `
  - id: ${id}
    repository: ghcr.io/acme/${id}
    team: payments
${stages ? `    stages: ${stages}\n` : ""}    github:
      repo: acme/${id}
      workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml }`;
  return `
version: 1
teams:
  - id: payments
    name: Payments
    channel: C0PAYMENTS
    approvers: { groups: [S0PAYAPPR], users: [] }
images:${image("payments-api")}${image("ledger-api", "[rebuild, canary, production]")}${image("billing-api", "[rebuild, qa, production]")}${image("search-api")}${image("reports-api", "[rebuild, eu-staging, production]")}${image("orders-api")}
defaultStages: [rebuild, staging, production]
prometheus: { url: "${promUrl}" }
healthChecks:
  error-rate:
    query: '${ERROR_RATIO("{{stage}}")}'
    max: 0.05
    requestsQuery: '${REQUESTS("{{stage}}")}'
    minRequests: 20
  error-rate-by-env:
    query: '${ERROR_RATIO("{{environment}}")}'
    max: 0.05
    requestsQuery: '${REQUESTS("{{environment}}")}'
    minRequests: 20
stages:
  rebuild: { approvals: 0 }
  staging: { approvals: 1, bakeTime: ${bake}, healthCheck: error-rate }
  canary: { approvals: 1, bakeTime: 2s, healthCheck: error-rate, autoRollback: true }
  qa: { approvals: 1, bakeTime: 2s, healthCheck: error-rate }
  eu-staging: { approvals: 1, environment: stg-eu, bakeTime: 1s, healthCheck: error-rate-by-env }
  production: { approvals: 1 }
`;
}

let target: MetricsTarget;
let prom: RunningPrometheus;
let h: RolloutHarness;

beforeAll(async () => {
  target = await startMetricsTarget();
  // Healthy: 1% errors, ~200 requests in the 10 s window. Failing: a third of the requests fail.
  target.setRates({ image: "payments-api", stage: "staging" }, { ok: 20, errors: 0.2 });
  target.setRates({ image: "ledger-api", stage: "canary" }, { ok: 10, errors: 5 });
  target.setRates({ image: "billing-api", stage: "qa" }, { ok: 10, errors: 5 });
  target.setRates({ image: "reports-api", stage: "stg-eu" }, { ok: 20, errors: 0 });
  target.setRates({ image: "orders-api", stage: "staging" }, { ok: 20, errors: 0 });
  // search-api has no traffic at all.
  prom = await startPrometheus({ targets: [target.target], scrapeIntervalMs: 1000 });
  h = await startRolloutHarness({ yaml: config(prom.url) });
  // Three scrapes in the window before the first rollout starts: its gate (a rollout walk and a
  // bake later) then sees steady rates.
  await waitForSeries(
    createPrometheusClient({ url: prom.url, retries: 0 }),
    `count_over_time(http_requests_total{image="payments-api",code="200"}[${RATE}]) >= 3`,
  );
}, 30_000);
afterAll(async () => {
  await h?.close();
  await prom?.stop();
  await target?.close();
});

// ---- helpers: what a user or an auditor can see ----

async function upload(r: RolloutHarness, image: string, digest: number, rolloutId?: number) {
  const q = rolloutId === undefined ? "" : `?rollout_id=${rolloutId}`;
  const res = await fetch(`${r.t.baseUrl}/api/v1/scans${q}`, {
    method: "POST",
    headers: { authorization: `Bearer ${r.uploadToken}`, "content-type": "application/json" },
    body: JSON.stringify(
      trivyReport({ image: `ghcr.io/acme/${image}:1.0`, digest: digestOf(digest), vulns: [] }),
    ),
  });
  expect([200, 201]).toContain(res.status);
}

/** Runs `image` at digest `running`, starts a rollout (as lee) and completes its rebuild of `candidate`. */
async function startToApproval(r: RolloutHarness, image: string, running: number, candidate: number) {
  await upload(r, image, running);
  const started = await r.patch(`rollout ${image} --reason "health gate test"`, USERS.lee);
  const rolloutId = Number(new RegExp(`Rollout #(\\d+) of ${image} started`).exec(started.text ?? "")?.[1]);
  expect(rolloutId, started.text).toBeGreaterThan(0);
  await waitFor(() => dispatchesOf(r, rolloutId, "rebuild").length > 0, 15_000, `the rebuild of ${image}`);
  await upload(r, image, candidate, rolloutId);
  const build = dispatchesOf(r, rolloutId, "rebuild")[0];
  expect((await r.webhook(r.github.completeRun(build?.runId ?? 0, "success"), "completed")).status).toBe(200);
  return rolloutId;
}

/** Maria approves `stage`; once its workflow is dispatched, the run completes successfully. */
async function approveAndDeploy(r: RolloutHarness, rolloutId: number, stage: string, candidate: number) {
  const answer = await r.click(
    ROLLOUT_ACTIONS.approve,
    { rollout: rolloutId, stage, digest: digestOf(candidate) },
    USERS.maria,
  );
  expect(answer).toMatch(/Approved/);
  await waitFor(
    async () => (await stageRow(r, rolloutId, stage))?.run_id != null,
    15_000,
    `the ${stage} run of #${rolloutId}`,
  );
  const deploy = dispatchesOf(r, rolloutId, stage)[0];
  expect(deploy).toMatchObject({ workflow: "deploy.yml", inputs: { stage, digest: digestOf(candidate) } });
  const completed = await r.webhook(r.github.completeRun(deploy?.runId ?? 0, "success"), "completed");
  expect(completed.status).toBe(200);
}

type StageView = { state: string; health: StageHealth | null; run_id: string | null };
async function stageRow(r: RolloutHarness, rolloutId: number, stage: string): Promise<StageView | undefined> {
  const q = await r.t.owner.pool.query<StageView>(
    "SELECT state, health, run_id FROM rollout_stages WHERE rollout_id = $1 AND name = $2",
    [rolloutId, stage],
  );
  return q.rows[0];
}

async function rolloutState(r: RolloutHarness, rolloutId: number): Promise<string | undefined> {
  const q = await r.t.owner.pool.query<{ state: string }>("SELECT state FROM rollouts WHERE id = $1", [
    rolloutId,
  ]);
  return q.rows[0]?.state;
}

/** Waits until the health gate has judged the stage (its health is no longer "baking"). */
async function judged(
  r: RolloutHarness,
  rolloutId: number,
  stage: string,
  timeoutMs = 20_000,
): Promise<StageView> {
  let row: StageView | undefined;
  await waitFor(
    async () => {
      row = await stageRow(r, rolloutId, stage);
      return row?.health != null && row.health.status !== "baking";
    },
    timeoutMs,
    `the health gate of ${stage} in #${rolloutId}`,
  );
  return row as StageView;
}

/** The rollout's card in the team channel as it stands now (text and blocks), or "". */
function cardOf(r: RolloutHarness, rolloutId: number): string {
  const card = r.t.slack
    .messages("C0PAYMENTS")
    .find((m) => !m.thread_ts && (m.text ?? "").startsWith(`Rollout #${rolloutId} of`));
  return card ? `${card.text}\n${JSON.stringify(card.blocks)}` : "";
}

async function waitForCard(r: RolloutHarness, rolloutId: number, pattern: RegExp, what: string) {
  await waitFor(() => pattern.test(cardOf(r, rolloutId)), 10_000, `the card of #${rolloutId} ${what}`);
  return cardOf(r, rolloutId);
}

/**
 * Every version of the card Slack was sent (posted, then updated in place), oldest first: a state
 * the card showed only briefly (baking) is still there after the next update.
 */
function cardVersions(r: RolloutHarness, rolloutId: number): string[] {
  return r.t.slack.calls
    .filter((c) => c.method === "chat.postMessage" || c.method === "chat.update")
    .filter((c) => String(c.args.text ?? "").startsWith(`Rollout #${rolloutId} of`))
    .map(
      (c) =>
        `${String(c.args.text)}\n${typeof c.args.blocks === "string" ? c.args.blocks : JSON.stringify(c.args.blocks)}`,
    );
}

/** Action ids of the card's buttons. */
function cardButtons(r: RolloutHarness, rolloutId: number): string[] {
  return [...cardOf(r, rolloutId).matchAll(/"action_id":"([a-z_]+)"/g)].map((m) => m[1] ?? "");
}

const threadOf = (r: RolloutHarness, rolloutId: number) => {
  const card = r.t.slack
    .messages("C0PAYMENTS")
    .find((m) => !m.thread_ts && (m.text ?? "").startsWith(`Rollout #${rolloutId} of`));
  return r.t.slack.messages("C0PAYMENTS").filter((m) => card && m.thread_ts === card.ts);
};

const auditOf = async (r: RolloutHarness, rolloutId: number, action: string) =>
  (await auditRowsOf(r, rolloutId)).filter((a) => a.action === action);

type AuditedCheck = {
  name: string;
  query: string;
  value: number | null;
  requests: number | null;
  outcome: string;
  reason: string;
};
const checksOf = (payload: Record<string, unknown>) => payload.checks as AuditedCheck[];

// ---- scenarios ----

// The restart scenario has its own app and mostly waits (for the reconciler), so it runs alongside.
describe.concurrent("post-deploy health gates against Prometheus", () => {
  it.sequential("pass: staging bakes, its error ratio is within max, and production is asked next", async () => {
    const id = await startToApproval(h, "payments-api", 1, 2);
    await approveAndDeploy(h, id, "staging", 2);

    // Deployed, not yet done: it bakes, and the card says so.
    const baking = await stageRow(h, id, "staging");
    expect(baking?.state).toBe("verifying");
    expect(baking?.health).toMatchObject({ status: "baking", check: "error-rate" });
    expect(await stageRow(h, id, "production")).toMatchObject({ state: "pending" });
    await waitFor(
      () => cardVersions(h, id).some((v) => v.includes("baking until")),
      10_000,
      "the card saying staging bakes",
    );
    const card = cardVersions(h, id).find((v) => v.includes("baking until"));
    expect(card).toMatch(/Staging is deployed and bakes until .*health check\s\*error-rate\*/);
    const [verifying] = await auditOf(h, id, "stage.verifying");
    expect(verifying?.payload).toMatchObject({
      healthCheck: "error-rate",
      bakeUntil: baking?.health?.bakeUntil,
    });

    // Promote is for a gate that cannot decide, not a way around the bake time.
    const early = await h.click(
      ROLLOUT_ACTIONS.promote,
      { rollout: id, stage: "staging", digest: digestOf(2) },
      USERS.maria,
    );
    expect(early).toMatch(/You cannot promote it: \*staging\* is deployed and waiting for its health gate/);

    const gated = await judged(h, id, "staging");
    expect(gated.state).toBe("done");
    const check = gated.health?.checks[0];
    expect(gated.health?.status).toBe("pass");
    expect(check).toMatchObject({ name: "error-rate", outcome: "pass" });
    expect(check?.query).toContain('image="payments-api",stage="staging"');
    expect(check?.value).toBeGreaterThanOrEqual(0);
    expect(check?.value).toBeLessThanOrEqual(0.05);
    expect(check?.requests).toBeGreaterThanOrEqual(20);
    expect(check?.reason).toMatch(/^[\d.]+ ≤ 0\.05 \(max\)$/);
    expect(Date.parse(gated.health?.checkedAt ?? "")).toBeGreaterThanOrEqual(
      Date.parse(gated.health?.bakeUntil ?? ""),
    );

    const [pass] = await auditOf(h, id, "health.pass");
    expect(pass).toMatchObject({ actor_id: "system", actor_name: "health gate", outcome: "ok" });
    expect(checksOf(pass?.payload ?? {})[0]).toMatchObject({
      name: "error-rate",
      outcome: "pass",
      value: check?.value,
      requests: check?.requests,
    });

    // The rollout goes on: production awaits approval, the card shows staging healthy.
    expect((await stageRow(h, id, "production"))?.state).toBe("awaiting_approval");
    const after = await waitForCard(h, id, /healthy \(error-rate: /, "healthy");
    expect(after).toContain(
      `✅ healthy (error-rate: ${check?.reason}, ${Math.floor(check?.requests ?? 0)} requests)`,
    );
    expect(cardButtons(h, id)).toContain(ROLLOUT_ACTIONS.approve);
    expect(after).toContain("Approve production");
    await waitFor(
      () =>
        threadOf(h, id).some(
          (m) => /production/i.test(m.text ?? "") && /<!subteam\^S0PAYAPPR>/.test(m.text ?? ""),
        ),
      10_000,
      "production's approvers asked in the thread",
    );
    expect(h.t.slack.messages("C0PAYMENTS").some((m) => /failed its health check/.test(m.text ?? ""))).toBe(
      false,
    );
  }, 40_000);

  it.sequential("fail with autoRollback: the stage fails, the rollback workflow restores the running digest, the team is alerted", async () => {
    const id = await startToApproval(h, "ledger-api", 11, 12);
    await approveAndDeploy(h, id, "canary", 12);
    expect((await stageRow(h, id, "canary"))?.state).toBe("verifying");

    const gated = await judged(h, id, "canary");
    expect(gated.state).toBe("failed");
    expect(gated.health?.status).toBe("fail");
    const check = gated.health?.checks[0];
    expect(check?.value).toBeGreaterThan(0.05);
    expect(check?.requests).toBeGreaterThanOrEqual(20);
    const [fail] = await auditOf(h, id, "health.fail");
    expect(fail).toMatchObject({ actor_name: "health gate" });
    expect(checksOf(fail?.payload ?? {})[0]).toMatchObject({
      outcome: "fail",
      value: check?.value,
      requests: check?.requests,
    });
    expect(checksOf(fail?.payload ?? {})[0]?.reason).toMatch(/^0\.\d+ > 0\.05 \(max\)$/);

    // Rolled back on its own: a rollback stage, dispatched with the digest that ran before.
    // The rollback workflow gets the stage it undoes as its `stage` input.
    const rollbacksOf = (rollout: number) =>
      dispatchesOf(h, rollout).filter((d) => d.workflow === "rollback.yml");
    await waitFor(() => rollbacksOf(id).length > 0, 15_000, "the rollback dispatch");
    const rollbacks = rollbacksOf(id);
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({
      workflow: "rollback.yml",
      repo: "ledger-api",
      inputs: { digest: digestOf(11) },
    });
    expect(await rolloutState(h, id)).toBe("rolling_back");
    expect((await stageRow(h, id, "production"))?.state).toBe("cancelled");
    const [requested] = await auditOf(h, id, "rollout.rollback_requested");
    expect(requested).toMatchObject({
      actor_name: "health gate",
      payload: { undoes: "canary", to: digestOf(11) },
    });

    // The team hears it in its channel, with the numbers, and that it is rolling back.
    let alert: { text?: string; blocks?: unknown[] } | undefined;
    await waitFor(
      () => {
        alert = h.t.slack
          .messages("C0PAYMENTS")
          .find((m) => !m.thread_ts && /ledger-api canary failed its health check/.test(m.text ?? ""));
        return alert !== undefined;
      },
      10_000,
      "the health alert",
    );
    expect(alert?.text).toContain(`error-rate: ${check?.reason}`);
    expect(alert?.text).toMatch(/rolling back/);
    const blocks = JSON.stringify(alert?.blocks);
    expect(blocks).toContain("Rolling back on its own");
    expect(blocks).not.toContain(ROLLOUT_ACTIONS.rollback);
    await waitForCard(h, id, /unhealthy/, "unhealthy");
  }, 40_000);

  it.sequential("fail without autoRollback: the rollout halts, card and alert offer Retry and Roll back", async () => {
    const id = await startToApproval(h, "billing-api", 21, 22);
    await approveAndDeploy(h, id, "qa", 22);

    const gated = await judged(h, id, "qa");
    expect(gated.state).toBe("failed");
    expect(gated.health?.status).toBe("fail");
    await waitFor(async () => (await rolloutState(h, id)) === "halted", 10_000, "the rollout halted");
    expect(dispatchesOf(h, id).filter((d) => d.workflow === "rollback.yml")).toHaveLength(0);
    expect((await stageRow(h, id, "production"))?.state).toBe("pending");

    const card = await waitForCard(h, id, /failed its health check/, "unhealthy");
    expect(card).toMatch(
      /Qa failed its health check: error-rate: 0\.\d+ &gt; 0\.05 \(max\), \d+ requests\. Retry or roll back\./,
    );
    expect(cardButtons(h, id)).toEqual(
      expect.arrayContaining([ROLLOUT_ACTIONS.retry, ROLLOUT_ACTIONS.rollback]),
    );

    let alert: { text?: string; blocks?: unknown[] } | undefined;
    await waitFor(
      () => {
        alert = h.t.slack
          .messages("C0PAYMENTS")
          .find((m) => !m.thread_ts && /billing-api qa failed its health check/.test(m.text ?? ""));
        return alert !== undefined;
      },
      10_000,
      "the health alert",
    );
    expect(alert?.text).toMatch(/halted/);
    const blocks = JSON.stringify(alert?.blocks);
    expect(blocks).toContain("Rollout halted: roll back, or retry the stage once it is fixed.");
    expect(blocks).toContain(`"action_id":"${ROLLOUT_ACTIONS.rollback}"`);
    expect(blocks).toContain(`"action_id":"${ROLLOUT_ACTIONS.retry}"`);

    // The alert's Roll back button works: the rollback workflow restores the running digest.
    const rollbackButton = (
      (alert?.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value: string }> }>
    )
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ROLLOUT_ACTIONS.rollback);
    const answer = await h.click(ROLLOUT_ACTIONS.rollback, rollbackButton?.value ?? "", USERS.maria);
    expect(answer).toMatch(/Rolling back qa/);
    const rollbacks = () => dispatchesOf(h, id).filter((d) => d.workflow === "rollback.yml");
    await waitFor(() => rollbacks().length > 0, 15_000, "the rollback dispatch");
    expect(rollbacks()).toHaveLength(1);
    expect(rollbacks()[0]).toMatchObject({
      workflow: "rollback.yml",
      inputs: { digest: digestOf(21) },
    });

    // The alert's Retry, clicked after the rollback, must not redeploy what was rolled back.
    const deploysBefore = dispatchesOf(h, id, "qa").length;
    const retryButton = (
      (alert?.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value: string }> }>
    )
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ROLLOUT_ACTIONS.retry);
    const refused = await h.click(ROLLOUT_ACTIONS.retry, retryButton?.value ?? "", USERS.maria);
    expect(refused).toMatch(/rolling back|rolled back/);
    expect(refused).toMatch(/new rollout/);
    expect(await h.stageState(id, "qa")).toBe("failed");
    expect(dispatchesOf(h, id, "qa")).toHaveLength(deploysBefore);
  }, 40_000);

  it.sequential("inconclusive (no traffic): the approvers are asked in the thread; only an approver can promote", async () => {
    const id = await startToApproval(h, "search-api", 31, 32);
    await approveAndDeploy(h, id, "staging", 32);

    const gated = await judged(h, id, "staging");
    expect(gated.state).toBe("verifying");
    expect(gated.health?.status).toBe("inconclusive");
    expect(gated.health?.checks[0]?.reason).toMatch(/no traffic to judge/);
    const [inconclusive] = await auditOf(h, id, "health.inconclusive");
    expect(checksOf(inconclusive?.payload ?? {})[0]).toMatchObject({
      outcome: "inconclusive",
      requests: null,
    });

    let question: { text?: string; blocks?: unknown[] } | undefined;
    await waitFor(
      () => {
        question = threadOf(h, id).find((m) => /health check inconclusive/.test(m.text ?? ""));
        return question !== undefined;
      },
      10_000,
      "the question in the card's thread",
    );
    const asked = JSON.stringify(question?.blocks);
    expect(asked).toContain("<!subteam^S0PAYAPPR>");
    expect(asked).toContain("its health check could not judge it");
    expect(asked).toContain("the requests query returned no data");
    const card = await waitForCard(h, id, /health inconclusive/, "inconclusive");
    expect(card).toContain("Promote staging");
    expect(cardButtons(h, id)).toContain(ROLLOUT_ACTIONS.promote);
    expect(
      h.github.dispatches().filter((d) => d.inputs.rollout_id === String(id) && d.inputs.stage !== "rebuild"),
    ).toHaveLength(1);

    const value = { rollout: id, stage: "staging", digest: digestOf(32) };
    const refused = await h.click(ROLLOUT_ACTIONS.promote, value, USERS.outsider);
    expect(refused).toContain("Only approvers of *staging* can promote it");
    expect((await stageRow(h, id, "staging"))?.state).toBe("verifying");
    expect((await stageRow(h, id, "production"))?.state).toBe("pending");
    expect(await auditOf(h, id, "stage.promoted")).toHaveLength(0);
    expect(await auditOf(h, id, "stage.promote")).toMatchObject([
      { outcome: "denied", actor_id: USERS.outsider.id },
    ]);

    const ok = await h.click(ROLLOUT_ACTIONS.promote, value, USERS.maria);
    expect(ok).toContain("You promoted *staging*");
    expect((await stageRow(h, id, "staging"))?.state).toBe("done");
    expect((await stageRow(h, id, "production"))?.state).toBe("awaiting_approval");
    expect(await auditOf(h, id, "stage.promoted")).toMatchObject([
      { outcome: "ok", actor_id: USERS.maria.id, actor_name: "maria" },
    ]);
    await waitForCard(h, id, /promoted by hand/, "promoted");
    expect(cardButtons(h, id)).not.toContain(ROLLOUT_ACTIONS.promote);
  }, 40_000);

  // {{environment}} is the stage's `environment` (its name unless configured), not its name.
  it.sequential("{{environment}} in a query is the stage's configured environment", async () => {
    const id = await startToApproval(h, "reports-api", 41, 42);
    await approveAndDeploy(h, id, "eu-staging", 42);
    const gated = await judged(h, id, "eu-staging");
    expect(gated.health?.checks[0]?.query).toContain('image="reports-api",stage="stg-eu"');
    expect(gated.health?.status).toBe("pass");
    expect(gated.state).toBe("done");
  }, 40_000);

  it.sequential("a gate whose delivery failed for good is revived, so the stage is not stuck verifying", async () => {
    const id = await startToApproval(h, "orders-api", 51, 52);
    await approveAndDeploy(h, id, "staging", 52);
    await waitFor(async () => (await stageRow(h, id, "staging"))?.state === "verifying", 10_000, "verifying");
    // Postgres was away through every retry: the gate's outbox row ended failed before it ran.
    const key = `health-gate:%`;
    const failed = await h.t.owner.pool.query(
      `UPDATE outbox SET status = 'failed', last_error = 'connection terminated' WHERE kind = 'rollout.health-gate'
         AND dedupe_key LIKE $1 AND payload->>'rolloutId' = $2 RETURNING id`,
      [key, String(id)],
    );
    expect(failed.rowCount).toBe(1);
    const revived = await reviveFailedGates({ ...({} as RolloutDeps), db: h.t.owner.db });
    expect(revived).toEqual([Number(failed.rows[0].id)]);
    const row = await h.t.owner.pool.query(
      "SELECT status, available_at > now() + interval '4 minutes' AS later FROM outbox WHERE id = $1",
      [failed.rows[0].id],
    );
    expect(row.rows[0]).toEqual({ status: "pending", later: true });
    // Five minutes on: the reconciler queues it, the gate runs and the stage goes on.
    await h.t.owner.pool.query("UPDATE outbox SET available_at = now() WHERE id = $1", [failed.rows[0].id]);
    await requeuePendingIntents(h, ["rollout.health-gate"]);
    const gated = await judged(h, id, "staging");
    expect(gated).toMatchObject({ state: "done", health: { status: "pass" } });
  }, 40_000);
});

describe.concurrent("Prometheus unreachable when the bake time ends", () => {
  it("asks again later instead of calling it inconclusive at once", async () => {
    // Nothing listens on port 9 of loopback: every query is refused.
    const r = await startRolloutHarness({ yaml: config("http://127.0.0.1:9", "1s") });
    try {
      const id = await startToApproval(r, "payments-api", 61, 62);
      await approveAndDeploy(r, id, "staging", 62);
      await waitFor(
        async () => ((await stageRow(r, id, "staging"))?.health?.unreachable ?? 0) >= 1,
        20_000,
        "the gate's first try",
      );
      const row = await stageRow(r, id, "staging");
      // Not a verdict yet: still baking, nobody asked, nothing audited as inconclusive.
      expect(row).toMatchObject({ state: "verifying", health: { status: "baking", unreachable: 1 } });
      expect(await auditOf(r, id, "health.inconclusive")).toHaveLength(0);
      expect(threadOf(r, id).some((m) => /health check inconclusive/.test(m.text ?? ""))).toBe(false);
    } finally {
      await r.close();
    }
  }, 40_000);
});

describe.concurrent("a restart during the bake time", () => {
  it("does not lose the gate: after the app stops, its Redis keys are gone and a new app starts, the gate still runs", async () => {
    const r = await startRolloutHarness({ yaml: config(prom.url, "4s") });
    let restarted: Awaited<ReturnType<typeof startPatchpilot>> | undefined;
    try {
      const id = await startToApproval(r, "payments-api", 51, 52);
      await approveAndDeploy(r, id, "staging", 52);
      const baking = await stageRow(r, id, "staging");
      expect(baking?.health?.status).toBe("baking");
      const bakeUntil = Date.parse(baking?.health?.bakeUntil ?? "");

      // Stop patchpilot, and lose everything it had in Redis (queued and delayed jobs, schedulers).
      await r.t.app.close();
      const prefix = r.t.env.REDIS_PREFIX ?? "";
      expect(prefix).toMatch(/^pptest:[0-9a-f]{10}$/);
      const redis = new Redis(r.t.env.REDIS_URL ?? "");
      try {
        const keys: string[] = [];
        for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 })) keys.push(...batch);
        expect(keys.length).toBeGreaterThan(0);
        await redis.del(...keys);
      } finally {
        redis.disconnect();
      }

      // A new process on the same database and Redis prefix, still within the bake time.
      restarted = await startPatchpilot({
        role: "all",
        env: r.t.env,
        logger: createLogger("warn", process.stderr),
      });
      r.t.baseUrl = `http://127.0.0.1:${restarted.port}`;
      expect(Date.now(), "the restart took longer than the bake time").toBeLessThan(bakeUntil);
      expect((await stageRow(r, id, "staging"))?.state).toBe("verifying");

      // Nothing in Redis knows of the gate any more: the reconciler (every 15 s) finds its intent in
      // Postgres and queues it again.
      const gated = await judged(r, id, "staging", 30_000);
      expect(gated.state).toBe("done");
      expect(gated.health?.status).toBe("pass");
      expect(Date.parse(gated.health?.checkedAt ?? "")).toBeGreaterThanOrEqual(bakeUntil);
      expect(await auditOf(r, id, "health.pass")).toHaveLength(1);
      expect((await stageRow(r, id, "production"))?.state).toBe("awaiting_approval");
    } finally {
      await restarted?.close();
      await r.close();
    }
  }, 50_000);
});
