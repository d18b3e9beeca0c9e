import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLLOUT_ACTIONS } from "../../src/core/rollout/rollout-card-view.js";
import type { StageHealth } from "../../src/core/rollout/stage-health.js";
import { type RunningPrometheus, startPrometheus } from "../support/prometheus.js";
import { digestOf, trivyReport } from "../support/report-builders.js";
import {
  auditRowsOf,
  dispatchesOf,
  type RolloutHarness,
  startRolloutHarness,
  USERS,
} from "../support/rollout-harness.js";
import { waitFor } from "../support/spawn-cli.js";

/**
 * Four-eyes on an inconclusive health gate (issue #5): promoting a stage the gate could not judge
 * lets the rollout go on, as an approval does, so the person who started the rollout may not do
 * it alone — even though they are one of the stage's approvers. A real Prometheus with nothing to
 * scrape answers every query with no data, so the gate is inconclusive ("no traffic to judge").
 */
const config = (promUrl: string) => `
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
prometheus: { url: "${promUrl}" }
healthChecks:
  error-rate:
    query: 'sum(rate(http_requests_total{image="{{image}}",stage="{{stage}}",code=~"5.."}[10s])) / sum(rate(http_requests_total{image="{{image}}",stage="{{stage}}"}[10s]))'
    max: 0.05
    requestsQuery: 'sum(increase(http_requests_total{image="{{image}}",stage="{{stage}}"}[10s]))'
    minRequests: 20
stages:
  rebuild: { approvals: 0 }
  staging: { approvals: 1, bakeTime: 1s, healthCheck: error-rate }
  production: { approvals: 1 }
`;

let prom: RunningPrometheus;
let h: RolloutHarness;

beforeAll(async () => {
  prom = await startPrometheus({ targets: [] });
  h = await startRolloutHarness({ yaml: config(prom.url) });
}, 30_000);
afterAll(async () => {
  await h?.close();
  await prom?.stop();
});

async function upload(digest: number, rolloutId?: number) {
  const q = rolloutId === undefined ? "" : `?rollout_id=${rolloutId}`;
  const res = await fetch(`${h.t.baseUrl}/api/v1/scans${q}`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.uploadToken}`, "content-type": "application/json" },
    body: JSON.stringify(
      trivyReport({ image: "ghcr.io/acme/payments-api:1.0", digest: digestOf(digest), vulns: [] }),
    ),
  });
  expect([200, 201]).toContain(res.status);
}

type StageView = { state: string; health: StageHealth | null; run_id: string | null };
async function stageRow(rolloutId: number, stage: string): Promise<StageView | undefined> {
  const q = await h.t.owner.pool.query<StageView>(
    "SELECT state, health, run_id FROM rollout_stages WHERE rollout_id = $1 AND name = $2",
    [rolloutId, stage],
  );
  return q.rows[0];
}

/** The card as Slack has it now, and what patchpilot has queued or sent for it. */
async function cardState(rolloutId: number) {
  const card = h.t.slack
    .messages("C0PAYMENTS")
    .find((m) => !m.thread_ts && (m.text ?? "").startsWith(`Rollout #${rolloutId} of`));
  const sent = h.t.slack.calls.filter(
    (c) =>
      (c.method === "chat.postMessage" || c.method === "chat.update") &&
      String(c.args.text ?? "").startsWith(`Rollout #${rolloutId} of`),
  ).length;
  const q = await h.t.owner.pool.query<{ version: number; cards: number; pending: number }>(
    `SELECT r.version,
       (SELECT count(*)::int FROM outbox o WHERE o.kind = 'rollout.card' AND o.payload->>'rolloutId' = $2) AS cards,
       (SELECT count(*)::int FROM outbox o WHERE o.status = 'pending' AND o.payload->>'rolloutId' = $2) AS pending
     FROM rollouts r WHERE r.id = $1`,
    [rolloutId, String(rolloutId)],
  );
  return {
    text: card ? `${card.text}\n${JSON.stringify(card.blocks)}` : "",
    sent,
    ...(q.rows[0] ?? { version: -1, cards: -1, pending: -1 }),
  };
}

describe("four-eyes on an inconclusive health gate", () => {
  it("the person who started the rollout cannot promote it: told why, audited as denied, card unchanged; another approver can", async () => {
    // Lee (an approver of staging) starts the rollout; maria approves staging and it deploys.
    await upload(1);
    const started = await h.patch('rollout payments-api --reason "four-eyes on promote"', USERS.lee);
    const id = Number(/Rollout #(\d+) of payments-api started/.exec(started.text ?? "")?.[1]);
    expect(id, started.text).toBeGreaterThan(0);
    await waitFor(() => dispatchesOf(h, id, "rebuild").length > 0, 15_000, "the rebuild dispatch");
    await upload(2, id);
    const build = dispatchesOf(h, id, "rebuild")[0];
    expect((await h.webhook(h.github.completeRun(build?.runId ?? 0, "success"), "completed")).status).toBe(
      200,
    );
    const value = { rollout: id, stage: "staging", digest: digestOf(2) };
    expect(await h.click(ROLLOUT_ACTIONS.approve, value, USERS.maria)).toMatch(/Approved/);
    await waitFor(async () => (await stageRow(id, "staging"))?.run_id != null, 15_000, "the staging run");
    const deploy = dispatchesOf(h, id, "staging")[0];
    expect((await h.webhook(h.github.completeRun(deploy?.runId ?? 0, "success"), "completed")).status).toBe(
      200,
    );

    // The gate cannot judge it: the stage stays verifying and the card offers Promote.
    await waitFor(
      async () => (await stageRow(id, "staging"))?.health?.status === "inconclusive",
      20_000,
      "the inconclusive gate",
    );
    await waitFor(
      async () => {
        const c = await cardState(id);
        return c.text.includes("health inconclusive") && c.pending === 0;
      },
      15_000,
      "the card showing the inconclusive gate, everything delivered",
    );
    const before = await cardState(id);
    expect(before.text).toContain(ROLLOUT_ACTIONS.promote);

    // Lee tries to promote his own rollout.
    const refused = await h.click(ROLLOUT_ACTIONS.promote, value, USERS.lee);
    expect(refused).toContain("You requested this rollout, so someone else must promote it (four-eyes)");
    expect(refused).toContain("<!subteam^S0PAYAPPR>");
    const answer = h.t.slack.callsTo("response_url").at(-1);
    expect(answer?.args).toMatchObject({ response_type: "ephemeral", replace_original: false });

    expect(await stageRow(id, "staging")).toMatchObject({
      state: "verifying",
      health: { status: "inconclusive" },
    });
    expect((await stageRow(id, "production"))?.state).toBe("pending");
    const rows = await auditRowsOf(h, id);
    expect(rows.filter((r) => r.action === "stage.promote")).toMatchObject([
      { outcome: "denied", actor_id: USERS.lee.id, payload: { code: "four_eyes" } },
    ]);
    expect(rows.some((r) => r.action === "stage.promoted")).toBe(false);
    // The card is as it was: no new version, nothing queued for it, nothing sent to Slack.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await cardState(id)).toEqual(before);
    expect(dispatchesOf(h, id, "production")).toHaveLength(0);

    // Maria, who neither started the rollout nor asked for the stage, promotes it.
    const ok = await h.click(ROLLOUT_ACTIONS.promote, value, USERS.maria);
    expect(ok).toContain("You promoted *staging*");
    expect((await stageRow(id, "staging"))?.state).toBe("done");
    expect((await stageRow(id, "production"))?.state).toBe("awaiting_approval");
    expect((await auditRowsOf(h, id)).filter((r) => r.action === "stage.promoted")).toMatchObject([
      { outcome: "ok", actor_id: USERS.maria.id },
    ]);
  }, 60_000);
});
