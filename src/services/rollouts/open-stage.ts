import { currentStage } from "../../core/rollout/rollout-state.js";
import type { StageKind, StageState } from "../../core/rollout/stage-state.js";
import { transitionStage } from "../../core/rollout/transition-stage.js";
import type { StageRow } from "../../db/rollout-repository.js";
import { loadCandidateDelta } from "./load-candidate-delta.js";
import type { Actor, Origin } from "./rollout-deps.js";
import type { RolloutStep } from "./rollout-tx.js";
import { scheduleDispatch } from "./schedule-dispatch.js";

const asSummary = (s: StageRow) => ({ ...s, kind: s.kind as StageKind, state: s.state as StageState });

/**
 * Moves the rollout on after a change: opens the next pending stage (asks its approvers, or
 * approves it at once when its policy needs no approval), and lets an approval-free stage that
 * waited for the candidate's scan go once the scan is there.
 */
export async function advance(step: RolloutStep, actor: Actor, origin: Origin): Promise<void> {
  if (step.loaded.rollout.state !== "active" && step.loaded.rollout.state !== "halted") return;
  const current = currentStage(step.loaded.stages.map(asSummary));
  if (!current) return;
  const stage = step.loaded.stages.find((s) => s.id === current.id);
  if (!stage) return;
  if (stage.state === "pending") await openStage(step, stage, actor, origin);
  else if (stage.state === "awaiting_approval") await approveIfFree(step, stage, actor, origin);
}

async function openStage(step: RolloutStep, stage: StageRow, actor: Actor, origin: Origin): Promise<void> {
  const policy = step.policyOf(stage);
  const t = transitionStage({ state: "pending", expiresAt: null }, { type: "request" }, step.now);
  if (!t.ok) return;
  await step.setStage(stage, {
    state: t.state,
    round: stage.round + 1,
    requestedBy: step.loaded.rollout.requestedBy,
    requestedAt: step.now,
    expiresAt: policy.approvals === 0 ? null : new Date(step.now.getTime() + policy.expiryMs),
    candidateDigest: step.loaded.rollout.candidateDigest,
    targetDigest:
      stage.kind === "build" ? step.loaded.rollout.runningDigest : step.loaded.rollout.candidateDigest,
  });
  if (policy.approvals === 0) {
    await approveIfFree(step, stage, actor, origin);
    return;
  }
  step.audit(actor, "stage.approval_requested", "ok", origin, {
    stage,
    payload: {
      approvals: policy.approvals,
      requiredGroups: policy.requiredGroups,
      expiresAt: stage.expiresAt?.toISOString() ?? null,
    },
  });
  await askApprovers(step, stage);
}

/**
 * Asks the stage's approvers in the card's thread. The request is written when it is delivered
 * (see `postApprovalRequest`), so one that is no longer needed by then is not posted.
 */
export async function askApprovers(step: RolloutStep, stage: StageRow): Promise<void> {
  if (!step.team?.channel) return;
  const rolloutId = step.loaded.rollout.id;
  await step.intent({
    kind: "rollout.ask",
    dedupeKey: `rollout:${rolloutId}:ask:${stage.name}:${stage.round}`,
    payload: { rolloutId, stage: stage.name, round: stage.round },
  });
}

/**
 * A stage whose policy needs no approval is approved by the system — for deploy stages only once
 * the candidate has a scan and introduces nothing that would need an override.
 */
async function approveIfFree(
  step: RolloutStep,
  stage: StageRow,
  actor: Actor,
  origin: Origin,
): Promise<void> {
  const policy = step.policyOf(stage);
  if (policy.approvals !== 0 || stage.state !== "awaiting_approval") return;
  if (stage.kind === "deploy") {
    const scan = await loadCandidateDelta(
      step.tx,
      step.loaded.rollout.imageId,
      step.loaded.rollout.runningDigest,
      step.loaded.rollout.candidateDigest,
    );
    if (!scan.candidateScanned) return;
    if (policy.blockNewCritical && (scan.delta?.blocking.length ?? 0) > 0) return;
  }
  await step.setStage(stage, { state: "approved" });
  step.audit(actor, "stage.auto_approved", "ok", origin, {
    stage,
    payload: { reason: "the stage's policy needs no approval" },
  });
  await scheduleDispatch(step, stage, actor, origin);
}
