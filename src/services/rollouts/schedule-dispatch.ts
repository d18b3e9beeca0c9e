import type { StagePolicy } from "../../core/rollout/stage-policy.js";
import { type DispatchTiming, decideDispatchTiming } from "../../core/windows/decide-dispatch-timing.js";
import type { StageRow } from "../../db/rollout-repository.js";
import { listFreezes } from "./freezes.js";
import type { Actor, Origin } from "./rollout-deps.js";
import type { RolloutStep } from "./rollout-tx.js";

/**
 * Whether an approved stage may be dispatched now. Rollbacks restore what ran before, so neither
 * a window nor a freeze holds them; an emergency-lane approval skips the window, never a freeze.
 */
export async function dispatchTiming(
  step: RolloutStep,
  stage: StageRow,
  policy: StagePolicy,
): Promise<DispatchTiming> {
  if (stage.kind === "rollback") return { kind: "now" };
  const window = policy.window ? step.deps.config.windows[policy.window] : undefined;
  return decideDispatchTiming({
    window,
    freezes: await listFreezes(step.tx, step.deps.config, step.runtimeFreezes),
    environment: policy.environment,
    now: step.now,
    emergency: stage.emergency,
  });
}

/** Words for the card and the audit trail about why a stage waits. */
export function describeHold(
  timing: DispatchTiming,
  policy: StagePolicy,
  windowZone: string | null,
): string | null {
  if (timing.kind === "frozen") return `Frozen: ${timing.freeze.reason}`;
  if (timing.kind === "wait_for_window")
    return `Waiting for the ${policy.window} window (${windowZone ?? "UTC"}), opens ${timing.opensAt.toISOString()}`;
  return null;
}

/**
 * The stage is approved: give it a dispatch id and commit the dispatch intent with the approval.
 * Outside its window, the intent becomes due when the window opens and the card says when.
 */
export async function scheduleDispatch(
  step: RolloutStep,
  stage: StageRow,
  actor: Actor,
  origin: Origin,
  /** The timing already decided in this transaction, if the caller has it. */
  known?: DispatchTiming,
): Promise<void> {
  const policy = step.policyOf(stage);
  const timing = known ?? (await dispatchTiming(step, stage, policy));
  const dispatchId = step.newDispatchId(stage);
  const zone = policy.window ? (step.deps.config.windows[policy.window]?.timezone ?? null) : null;
  await step.setStage(stage, {
    dispatchId,
    attempt: stage.attempt + 1,
    scheduledFor: timing.kind === "wait_for_window" ? timing.opensAt : null,
    blockedReason: describeHold(timing, policy, zone),
  });
  await step.intent({
    kind: "github.dispatch",
    dedupeKey: `dispatch:${dispatchId}`,
    payload: { rolloutId: step.loaded.rollout.id, stageId: stage.id, dispatchId },
    ...(timing.kind === "wait_for_window" ? { availableAt: timing.opensAt } : {}),
  });
  if (timing.kind === "wait_for_window")
    step.audit(actor, "stage.waiting_for_window", "ok", origin, {
      stage,
      payload: { window: policy.window, opensAt: timing.opensAt.toISOString(), timezone: zone },
    });
  if (timing.kind === "frozen")
    step.audit(actor, "stage.frozen", "ok", origin, {
      stage,
      payload: { freeze: timing.freeze.id, reason: timing.freeze.reason },
    });
  if (stage.emergency && policy.window)
    step.audit(actor, "stage.emergency_bypass", "ok", origin, {
      stage,
      payload: { window: policy.window, reason: "fixes a known-exploited or overdue critical finding" },
    });
}
