import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { NotYet } from "../../adapters/slack-errors.js";
import { configTeam } from "../../config/config-lookup.js";
import type { StageHealth } from "../../core/rollout/stage-health.js";
import type { StagePolicy } from "../../core/rollout/stage-policy.js";
import type { StageKind, StageState } from "../../core/rollout/stage-state.js";
import { type StageEvent, transitionStage } from "../../core/rollout/transition-stage.js";
import { loadRollout, type StageRow } from "../../db/rollout-repository.js";
import { images } from "../../db/schema/index.js";
import { renderHealthAlert, renderHealthQuestion } from "../../render/render-health-alert.js";
import { type GateResult, type PrometheusQueries, runHealthGate } from "../health/run-health-gate.js";
import { advance } from "./open-stage.js";
import { rollBack } from "./request-rollback.js";
import { type Actor, type Origin, type RolloutDeps, SYSTEM_ACTOR } from "./rollout-deps.js";
import { rolloutPolicy } from "./rollout-policy.js";
import { inRolloutTx, type RolloutStep } from "./rollout-tx.js";

export const healthGatePayload = z.object({
  rolloutId: z.number().int(),
  stageId: z.number().int(),
  attempt: z.number().int(),
});
export type HealthGatePayload = z.infer<typeof healthGatePayload>;

/** Who acts when the gate decides: patchpilot, named for the card and the audit trail. */
export const HEALTH_GATE_ACTOR: Actor = { id: "system", name: "health gate" };
const ORIGIN: Origin = { source: "system", job: "health-gate" };
const UNREACHABLE_RETRIES = 3;
const UNREACHABLE_WAIT_MS = 60_000;

/**
 * A deploy stage's workflow succeeded and its policy has a bake time or a health check: the stage
 * is `verifying` and the gate is an outbox intent due when the bake time ends. The intent is in
 * Postgres, so a restart (or an emptied Redis) during the bake time does not lose it.
 */
export async function startVerifying(step: RolloutStep, stage: StageRow, policy: StagePolicy): Promise<void> {
  const bakeUntil = new Date(step.now.getTime() + policy.bakeMs);
  const health: StageHealth = {
    status: "baking",
    check: policy.healthCheck,
    bakeUntil: bakeUntil.toISOString(),
    checkedAt: null,
    checks: [],
    autoRollback: policy.autoRollback,
  };
  await step.setStage(stage, { health });
  await step.intent({
    kind: "rollout.health-gate",
    dedupeKey: `health-gate:${stage.id}:${stage.attempt}`,
    payload: { rolloutId: step.loaded.rollout.id, stageId: stage.id, attempt: stage.attempt },
    availableAt: bakeUntil,
  });
  step.audit(SYSTEM_ACTOR, "stage.verifying", "ok", ORIGIN, {
    stage,
    payload: { bakeUntil: health.bakeUntil, healthCheck: policy.healthCheck },
  });
}

const EVENT: Record<GateResult["outcome"], StageEvent> = {
  pass: { type: "gate_passed" },
  fail: { type: "gate_failed" },
  inconclusive: { type: "gate_inconclusive" },
};

const isCurrentGate = (stage: StageRow | undefined, p: HealthGatePayload): stage is StageRow =>
  stage !== undefined &&
  stage.state === "verifying" &&
  stage.attempt === p.attempt &&
  stage.health?.status === "baking";

/**
 * Runs a stage's health gate once its bake time is over: the configured Prometheus checks,
 * templated with the image, stage and digest, outside any transaction; then, under the rollout's
 * lock, pass opens the next stage, fail halts the rollout (and rolls back when the policy says
 * so), and inconclusive keeps the stage verifying and asks a person to promote or roll back. A
 * gate that is no longer wanted (retried, rolled back, cancelled) does nothing.
 */
export async function runStageHealthGate(
  deps: RolloutDeps & { prometheus: PrometheusQueries | null },
  payload: HealthGatePayload,
): Promise<Record<string, unknown>> {
  const loaded = await loadRollout(deps.db, payload.rolloutId);
  const stage = loaded?.stages.find((s) => s.id === payload.stageId);
  if (!loaded || !isCurrentGate(stage, payload))
    return { skipped: "the stage is no longer waiting for this gate" };
  const health = stage.health as StageHealth;
  const wait = Date.parse(health.bakeUntil) - deps.now().getTime();
  if (wait > 0) throw new NotYet(`stage ${stage.name} bakes`, wait);
  const result = await judge(deps, health.check, {
    image: await imageName(deps, loaded.rollout.imageId),
    stage: stage.name,
    digest: stage.targetDigest ?? loaded.rollout.candidateDigest ?? "",
    // The stage's configured environment (its name unless set), as freezes also see it.
    environment: rolloutPolicy(
      deps.config,
      configTeam(deps.config, loaded.rollout.teamId),
      stage.name,
      stage.kind as StageKind,
    ).environment,
    team: loaded.rollout.teamId ?? "",
  });
  // Prometheus restarting is not a verdict: ask again a few times before asking a person.
  const transient = result.outcome === "inconclusive" && result.checks.every((c) => c.transient);
  const done = await inRolloutTx(deps, payload.rolloutId, async (step): Promise<Record<string, unknown>> => {
    const current = step.loaded.stages.find((s) => s.id === payload.stageId);
    if (!isCurrentGate(current, payload)) return { skipped: "the stage moved on meanwhile" };
    // Counted under the rollout's lock, from the locked read, and written through the step: the
    // rollout's version moves with it, so no decision reuses a read taken before this try.
    const tries = (current.health as StageHealth).unreachable ?? 0;
    if (transient && tries < UNREACHABLE_RETRIES) {
      await step.setStage(current, {
        health: { ...(current.health as StageHealth), unreachable: tries + 1 },
      });
      return { retry: tries + 1 };
    }
    await applyGateResult(step, current, result);
    return { outcome: result.outcome };
  });
  // Thrown once the count is committed: the job runs the gate again in a minute.
  if ("retry" in done)
    throw new NotYet(`Prometheus unreachable for the gate of ${stage.name}`, UNREACHABLE_WAIT_MS);
  return done;
}

async function imageName(deps: RolloutDeps, imageId: string): Promise<string> {
  const [row] = await deps.db.select().from(images).where(eq(images.id, imageId));
  return row?.configId ?? row?.repository ?? imageId;
}

async function judge(
  deps: RolloutDeps & { prometheus: PrometheusQueries | null },
  checkId: string | null,
  vars: { image: string; stage: string; digest: string; environment: string; team: string },
): Promise<GateResult> {
  // Prometheus holds samples at wall-clock time, whatever clock the rest of the app is given.
  const now = new Date();
  if (checkId === null) return { outcome: "pass", checkedAt: now.toISOString(), checks: [] };
  const check = deps.config.healthChecks[checkId];
  const unable = (reason: string): GateResult => ({
    outcome: "inconclusive",
    checkedAt: now.toISOString(),
    checks: [{ name: checkId, query: "", value: null, requests: null, outcome: "inconclusive", reason }],
  });
  if (!check) return unable(`the health check "${checkId}" is no longer in patchpilot.yaml`);
  if (deps.prometheus === null) return unable("prometheus.url is not set in patchpilot.yaml");
  return runHealthGate(deps.prometheus, [{ name: checkId, check }], vars, now);
}

async function applyGateResult(step: RolloutStep, stage: StageRow, result: GateResult): Promise<void> {
  const previous = stage.health as StageHealth;
  const t = transitionStage(
    { state: stage.state as StageState, expiresAt: null, gate: "baking" },
    EVENT[result.outcome],
    step.now,
  );
  if (!t.ok) return;
  const health: StageHealth = {
    ...previous,
    status: result.outcome,
    checkedAt: result.checkedAt,
    checks: result.checks,
  };
  await step.setStage(stage, {
    state: t.state,
    health,
    ...(t.state === "done" || t.state === "failed" ? { completedAt: step.now } : {}),
  });
  step.audit(HEALTH_GATE_ACTOR, `health.${result.outcome}`, "ok", ORIGIN, {
    stage,
    payload: {
      healthCheck: health.check,
      checks: result.checks.map((c) => ({
        name: c.name,
        query: c.query,
        value: c.value,
        requests: c.requests,
        outcome: c.outcome,
        reason: c.reason,
      })),
    },
  });
  if (result.outcome === "pass") {
    await advance(step, HEALTH_GATE_ACTOR, ORIGIN);
    return;
  }
  const channel = step.team?.channel;
  const image = step.image?.id ?? step.repository;
  if (result.outcome === "inconclusive") {
    if (channel) {
      const policy = step.policyOf(stage);
      const message = renderHealthQuestion({
        rolloutId: step.loaded.rollout.id,
        image,
        stage: stage.name,
        health,
        approverGroups: [...policy.approvers.groups],
        approverUsers: [...policy.approvers.users],
      });
      await step.intent({
        kind: "slack.post",
        dedupeKey: `health-question:${stage.id}:${stage.attempt}`,
        payload: {
          key: `health-question:${stage.id}:${stage.attempt}`,
          channel,
          text: message.text,
          blocks: message.blocks,
          threadKey: `rollout:${step.loaded.rollout.id}`,
        },
      });
    }
    return;
  }
  const rolledBack = health.autoRollback
    ? await rollBack(step, {
        actor: HEALTH_GATE_ACTOR,
        origin: ORIGIN,
        reason: `health check failed: ${result.checks.find((c) => c.outcome === "fail")?.reason ?? "outside its thresholds"}`,
        groups: null,
      })
    : null;
  // Requested is not dispatched: a rollback policy may need more approvals than the gate's own.
  const rollbackStage = step.loaded.stages
    .filter((s) => s.kind === "rollback")
    .sort((a, b) => b.position - a.position)[0];
  const dispatching = rolledBack?.ok === true && rollbackStage?.state === "approved";
  if (!channel) return;
  const message = renderHealthAlert({
    rolloutId: step.loaded.rollout.id,
    image,
    stage: stage.name,
    health,
    rollingBack: dispatching,
    rollbackWaiting: rolledBack?.ok === true && !dispatching ? rolledBack.message : null,
    rollbackRefusal: rolledBack && !rolledBack.ok ? rolledBack.message : null,
    candidateDigest: step.loaded.rollout.candidateDigest,
    rollbackStage: stage.name,
  });
  await step.intent({
    kind: "slack.post",
    dedupeKey: `health-alert:${stage.id}:${stage.attempt}`,
    payload: {
      key: `health-alert:${stage.id}:${stage.attempt}`,
      channel,
      text: message.text,
      blocks: message.blocks,
    },
  });
}

/**
 * A gate whose delivery failed for good (Postgres away through every retry) would leave its stage
 * verifying forever, with nobody able to promote it. Run every minute: such gates are made
 * pending again, at most every five minutes, and queued. Returns the outbox ids revived.
 */
export async function reviveFailedGates(deps: RolloutDeps): Promise<number[]> {
  const result = await deps.db.execute(sql`
    UPDATE outbox o
    SET status = 'pending', available_at = now() + interval '5 minutes',
        last_error = 'revived: ' || coalesce(o.last_error, '')
    FROM rollout_stages s
    WHERE o.kind = 'rollout.health-gate' AND o.status = 'failed'
      AND o.dedupe_key = 'health-gate:' || s.id || ':' || s.attempt
      AND s.state = 'verifying' AND s.health->>'status' = 'baking'
    RETURNING o.id`);
  // Due in five minutes: the reconciler queues them then, not at once after a failure.
  return result.rows.map((r) => Number((r as { id: unknown }).id));
}
