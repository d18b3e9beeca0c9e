import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrometheusClient } from "../../../src/adapters/prometheus/prometheus-client.js";
import { NotYet } from "../../../src/adapters/slack-errors.js";
import { configFileSchema } from "../../../src/config/file-schema.js";
import type { StageHealth } from "../../../src/core/rollout/stage-health.js";
import type { Database } from "../../../src/db/client.js";
import { type LoadedRollout, loadRollout } from "../../../src/db/rollout-repository.js";
import { ingestScan, parseReportOrThrow } from "../../../src/services/ingest-scan.js";
import { applyWorkflowRun } from "../../../src/services/rollouts/apply-workflow-run.js";
import { approveStage } from "../../../src/services/rollouts/approve-stage.js";
import { decideStage } from "../../../src/services/rollouts/decide-stage.js";
import { expireStages } from "../../../src/services/rollouts/expire-stages.js";
import { runStageHealthGate } from "../../../src/services/rollouts/health-gate.js";
import { recordCandidate } from "../../../src/services/rollouts/record-candidate.js";
import type { RolloutDeps } from "../../../src/services/rollouts/rollout-deps.js";
import { inRolloutTx } from "../../../src/services/rollouts/rollout-tx.js";
import { startRollout } from "../../../src/services/rollouts/start-rollout.js";
import { type RunningPrometheus, startPrometheus } from "../../support/prometheus.js";
import { digestOf, trivyReport } from "../../support/report-builders.js";
import { openRolloutServices, paymentsImage, staticMembership } from "../../support/rollout-services.js";

/**
 * Decisions around a stage's health gate, through the services on a real Postgres and a real
 * Prometheus: four-eyes when promoting past an inconclusive gate, and the gate's "Prometheus
 * unreachable" count written so that no later decision acts on a read from before it.
 */
const image = paymentsImage;
const config = configFileSchema.parse({
  version: 1,
  teams: [{ id: "payments", channel: "C0PAYMENTS", approvers: { groups: ["S0PAYAPPR"], users: [] } }],
  images: [image("payments-api"), image("ledger-api")],
  defaultStages: ["rebuild", "staging", "production"],
  prometheus: { url: "http://127.0.0.1:9" },
  healthChecks: {
    "error-rate": {
      query: 'sum(rate(http_requests_total{image="{{image}}",code=~"5.."}[10s]))',
      max: 0.05,
      requestsQuery: 'sum(increase(http_requests_total{image="{{image}}"}[10s]))',
      minRequests: 20,
    },
  },
  stages: {
    rebuild: { approvals: 0 },
    staging: { approvals: 1, expiry: "1h", bakeTime: "5m", healthCheck: "error-rate" },
    production: { approvals: 1 },
  },
});
const LEE = { id: "U0LEE", name: "lee" };
const MARIA = { id: "U0MARIA", name: "maria" };
const OMAR = { id: "U0OMAR", name: "omar" };
const GROUPS: Record<string, string[]> = { S0PAYAPPR: [LEE.id, MARIA.id, OMAR.id] };
const membership = staticMembership(GROUPS);
const ORIGIN = { source: "test" };

let services: Awaited<ReturnType<typeof openRolloutServices>> | undefined;
let app: Database;
let prom: RunningPrometheus;
let clock = new Date("2026-11-20T09:00:00Z");
let deps: RolloutDeps;

beforeAll(async () => {
  services = await openRolloutServices(config, { now: () => clock, membership });
  ({ app, deps } = services);
  // Nothing to scrape: every query answers with no data, which the gate calls inconclusive.
  prom = await startPrometheus({ targets: [] });
}, 30_000);
afterAll(async () => {
  await prom?.stop();
  await services?.close();
});

const later = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};

async function ingest(imageId: string, n: number, rolloutId?: number) {
  await ingestScan(
    { db: app.db, now: () => clock, onRolloutScan: (s) => recordCandidate(deps, s) },
    {
      report: parseReportOrThrow(
        trivyReport({ image: `ghcr.io/acme/${imageId}:1.0`, digest: digestOf(n), vulns: [] }),
      ),
      uploaderTeam: "payments",
      actor: { id: "token:test", name: "ci" },
      origin: ORIGIN,
      rolloutId,
    },
  );
}

async function stageOf(rolloutId: number, name: string) {
  const s = (await loadRollout(app.db, rolloutId))?.stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
}

let runs = 7000;
async function runSucceeds(rolloutId: number, stage: string) {
  const s = await stageOf(rolloutId, stage);
  expect(s.dispatchId, `${stage} has been dispatched`).not.toBeNull();
  runs += 1;
  const applied = await applyWorkflowRun(
    deps,
    {
      runId: String(runs),
      title: `${stage} ${s.dispatchId}`,
      status: "completed",
      conclusion: "success",
      htmlUrl: null,
    },
    ORIGIN,
  );
  expect(applied).toBe("applied");
}

/** Lee starts a rollout of `imageId` (running n → candidate n+1); its rebuild completes. */
async function startAndRebuild(imageId: string, n: number): Promise<number> {
  await ingest(imageId, n);
  const started = await startRollout(deps, {
    image: imageId,
    actor: LEE,
    origin: ORIGIN,
    reason: "health gate decisions",
    trigger: "manual",
  });
  expect(started.ok, started.message).toBe(true);
  const id = started.rolloutId ?? 0;
  await ingest(imageId, n + 1, id);
  await runSucceeds(id, "rebuild");
  expect((await stageOf(id, "staging")).state).toBe("awaiting_approval");
  return id;
}

/** Maria approves staging, its run succeeds, and the bake time passes. */
async function deployStaging(id: number, candidate: number) {
  const approved = await approveStage(deps, {
    rolloutId: id,
    stage: "staging",
    actor: MARIA,
    buttonDigest: digestOf(candidate),
    origin: ORIGIN,
  });
  expect(approved.message).toMatch(/Approved/);
  await runSucceeds(id, "staging");
  const staging = await stageOf(id, "staging");
  expect(staging.state).toBe("verifying");
  later(6 * 60_000);
  return { rolloutId: id, stageId: staging.id, attempt: staging.attempt };
}

const promote = (id: number, actor: { id: string; name: string }) =>
  decideStage(deps, "promote", { rolloutId: id, stage: "staging", actor, origin: ORIGIN });

async function auditOf(id: number, action: string) {
  const r = await app.pool.query(
    "SELECT actor_id, outcome, payload FROM audit_events WHERE resource->>'rollout' = $1 AND action = $2 ORDER BY seq",
    [String(id), action],
  );
  return r.rows as Array<{ actor_id: string; outcome: string; payload: Record<string, unknown> }>;
}

describe("promoting past an inconclusive health gate", () => {
  it("is refused to whoever asked for the stage and to the rollout's requester (four-eyes); another approver may", async () => {
    const id = await startAndRebuild("payments-api", 1);
    // Nobody approved staging in time; omar asks again, so he is the one who asked for it.
    later(2 * 3_600_000);
    expect(await expireStages(deps)).toBe(1);
    const again = await decideStage(deps, "request_again", {
      rolloutId: id,
      stage: "staging",
      actor: OMAR,
      origin: ORIGIN,
    });
    expect(again.ok, again.message).toBe(true);
    expect((await stageOf(id, "staging")).requestedBy).toBe(OMAR.id);
    const gate = await deployStaging(id, 2);

    const prometheus = createPrometheusClient({ url: prom.url, retries: 0 });
    expect(await runStageHealthGate({ ...deps, prometheus }, gate)).toEqual({ outcome: "inconclusive" });
    expect((await stageOf(id, "staging")).health?.status).toBe("inconclusive");

    const byOmar = await promote(id, OMAR);
    expect(byOmar).toEqual({
      ok: false,
      message:
        "You asked for this approval, so someone else must promote it (four-eyes). Approvers: <!subteam^S0PAYAPPR>.",
    });
    const byLee = await promote(id, LEE);
    expect(byLee.ok).toBe(false);
    expect(byLee.message).toMatch(
      /^You requested this rollout, so someone else must promote it \(four-eyes\)/,
    );
    expect((await stageOf(id, "staging")).state).toBe("verifying");
    expect((await stageOf(id, "production")).state).toBe("pending");
    expect(await auditOf(id, "stage.promote")).toMatchObject([
      { actor_id: OMAR.id, outcome: "denied", payload: { code: "four_eyes" } },
      { actor_id: LEE.id, outcome: "denied", payload: { code: "four_eyes" } },
    ]);

    const byMaria = await promote(id, MARIA);
    expect(byMaria.ok, byMaria.message).toBe(true);
    expect((await stageOf(id, "staging")).state).toBe("done");
    expect((await stageOf(id, "production")).state).toBe("awaiting_approval");
    expect(await auditOf(id, "stage.promoted")).toMatchObject([{ actor_id: MARIA.id, outcome: "ok" }]);
  }, 30_000);
});

/** The gate's count of tries that found Prometheus unreachable, in a read of the rollout. */
const unreachableCount = (loaded: LoadedRollout | null) =>
  (loaded?.stages.find((s) => s.name === "staging")?.health as StageHealth | null | undefined)?.unreachable;

describe("a gate that finds Prometheus unreachable", () => {
  it("counts the try in the rollout's version, so a decision holding an earlier read sees the count", async () => {
    const id = await startAndRebuild("ledger-api", 11);
    const gate = await deployStaging(id, 12);
    // Nothing listens on port 9 of loopback: every query is refused, a transient inconclusive.
    const unreachable = {
      ...deps,
      prometheus: createPrometheusClient({ url: "http://127.0.0.1:9", retries: 0 }),
    };

    // A decision reads the rollout (as an approve click does before its transaction)...
    const before = await loadRollout(app.db, id);
    expect(unreachableCount(before)).toBeUndefined();
    // ...meanwhile the gate finds Prometheus unreachable and will ask again in a minute.
    await expect(runStageHealthGate(unreachable, gate)).rejects.toBeInstanceOf(NotYet);

    // The decision then takes the rollout's lock with its earlier read: it must see the count.
    const seen = await inRolloutTx(deps, id, async (step) => unreachableCount(step.loaded), before);
    expect(seen).toBe(1);

    const after = await loadRollout(app.db, id);
    expect(unreachableCount(after)).toBe(1);
    expect(after?.rollout.version).toBeGreaterThan(before?.rollout.version ?? 0);
    // The card's refresh for that version is queued, so a pending refresh of an older one being
    // skipped as superseded does not leave the card behind.
    const cards = await app.pool.query(
      "SELECT 1 FROM outbox WHERE kind = 'rollout.card' AND dedupe_key = $1",
      [`rollout-card:${id}:${after?.rollout.version}`],
    );
    expect(cards.rowCount).toBe(1);

    // The count is honoured: two more tries wait, the next one asks a person.
    await expect(runStageHealthGate(unreachable, gate)).rejects.toBeInstanceOf(NotYet);
    await expect(runStageHealthGate(unreachable, gate)).rejects.toBeInstanceOf(NotYet);
    expect((await stageOf(id, "staging")).health).toMatchObject({ status: "baking", unreachable: 3 });
    expect(await runStageHealthGate(unreachable, gate)).toEqual({ outcome: "inconclusive" });
    expect((await stageOf(id, "staging")).health).toMatchObject({ status: "inconclusive", unreachable: 3 });
    expect(await auditOf(id, "health.inconclusive")).toHaveLength(1);
  }, 30_000);
});
