import { describeApprovers } from "../../core/rollout/check-approver.js";
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

/** Posts the approval request in the card's thread, mentioning the approver groups and nobody else. */
export async function askApprovers(step: RolloutStep, stage: StageRow): Promise<void> {
  const policy = step.policyOf(stage);
  const channel = step.team?.channel;
  if (!channel) return;
  const rolloutId = step.loaded.rollout.id;
  const needs = `${policy.approvals} approval${policy.approvals === 1 ? "" : "s"}${
    policy.requiredGroups.length > 0
      ? ` incl. ${policy.requiredGroups.map((g) => `<!subteam^${g}>`).join(" and ")}`
      : ""
  }`;
  const image = step.image?.id ?? step.repository;
  const text = `${describeApprovers(policy)}: *${stage.name}* of ${image} (rollout #${rolloutId}) needs ${needs}. Review the card above and approve or reject.`;
  await step.intent({
    kind: "slack.post",
    dedupeKey: `rollout:${rolloutId}:ask:${stage.name}:${stage.round}`,
    payload: {
      key: `rollout:${rolloutId}:ask:${stage.name}:${stage.round}`,
      channel,
      text,
      threadKey: `rollout:${rolloutId}`,
    },
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
