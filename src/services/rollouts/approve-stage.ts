import { and, eq, inArray } from "drizzle-orm";
import { configTeam } from "../../config/config-lookup.js";
import { checkApprover } from "../../core/rollout/check-approver.js";
import { quorum } from "../../core/rollout/quorum.js";
import { eligibleGroups } from "../../core/rollout/stage-policy.js";
import type { StageKind, StageState } from "../../core/rollout/stage-state.js";
import { describeStageState, transitionStage } from "../../core/rollout/transition-stage.js";
import type { LoadedRollout, StageRow } from "../../db/rollout-repository.js";
import { loadRollout } from "../../db/rollout-repository.js";
import { findingLifecycle } from "../../db/schema/index.js";
import { candidateFindingsRead, loadCandidateDelta } from "./load-candidate-delta.js";
import type { Actor, Origin, Outcome, RolloutDeps } from "./rollout-deps.js";
import { rolloutPolicy } from "./rollout-policy.js";
import { inRolloutTx, type RolloutStep } from "./rollout-tx.js";
import { dispatchTiming, scheduleDispatch } from "./schedule-dispatch.js";
import { slaClockDueAt } from "./sla-due.js";
import { recordVote, votesOf } from "./stage-votes.js";

export type ApproveInput = {
  rolloutId: number;
  stage: string;
  actor: Actor;
  /** The candidate digest the clicked button was rendered for (digest binding). */
  buttonDigest: string | null;
  origin: Origin;
  /** A reason given with an override of the new-critical block. */
  overrideReason?: string | null;
  /** Production-like stages are approved from a confirmation dialog only. */
  confirmed?: boolean;
};

const hhmm = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** "Already approved by <@U1> at 14:02 UTC": what a replayed or late click is told. */
function alreadyDecided(loaded: LoadedRollout, stage: StageRow): string {
  const last = votesOf(loaded, stage).at(-1);
  const by = last ? ` by <@${last.userId}> at ${hhmm(last.at)}` : "";
  if (
    stage.state === "approved" ||
    stage.state === "dispatched" ||
    stage.state === "deploying" ||
    stage.state === "verifying" ||
    stage.state === "done"
  )
    return `*${stage.name}* is already approved${by}; nothing more is needed from you.`;
  return `*${stage.name}* ${describeStageState(stage.state as StageState)}.`;
}

/**
 * A click on a stage past its approval (not waiting for a window, where emergency votes still
 * count) by someone who voted, or on a stage approved for good: told "already approved", with
 * nothing changed and nothing audited.
 */
function answeredWithoutVote(loaded: LoadedRollout, stage: StageRow, userId: string): boolean {
  if (stage.state === "awaiting_approval" || (stage.state === "approved" && stage.scheduledFor !== null))
    return false;
  const mine = votesOf(loaded, stage).some((v) => v.userId === userId);
  return mine || ["approved", "dispatched", "deploying", "verifying", "done"].includes(stage.state);
}

/**
 * Whether deploying this rollout fixes a known-exploited finding or a critical past its SLA: the
 * condition for the emergency lane.
 */
async function fixesUrgent(
  step: RolloutStep,
  fixed: Array<{ vulnerabilityId: string; packageName: string; severity: string; knownExploited: boolean }>,
): Promise<boolean> {
  if (fixed.some((f) => f.knownExploited)) return true;
  const critical = fixed.filter((f) => f.severity === "critical");
  if (critical.length === 0) return false;
  const rows = await step.tx
    .select({ vulnerabilityId: findingLifecycle.vulnerabilityId, firstSeenAt: findingLifecycle.firstSeenAt })
    .from(findingLifecycle)
    .where(
      and(
        eq(findingLifecycle.imageId, step.loaded.rollout.imageId),
        inArray(
          findingLifecycle.vulnerabilityId,
          critical.map((f) => f.vulnerabilityId),
        ),
      ),
    );
  return rows.some((r) => slaClockDueAt(step.deps.config, r.firstSeenAt).getTime() <= step.now.getTime());
}

/**
 * One approval click. In one transaction on the locked rollout: the checks (digest binding,
 * four-eyes, eligibility, scan before deploy, new-critical block), the vote, the audit event, and
 * when the quorum is met the state change and the dispatch intent. A refusal is audited as
 * "denied"; a replay of a click already counted changes nothing and writes nothing.
 */
export async function approveStage(
  deps: RolloutDeps,
  input: ApproveInput,
  /** The rollout as the click's handler just read it, if it did. */
  read?: LoadedRollout | null,
): Promise<Outcome> {
  // Slack is asked about group membership before the transaction, so no lock waits on Slack.
  const peek = read ?? (await loadRollout(deps.db, input.rolloutId));
  const peekStage = peek?.stages.find((s) => s.name === input.stage);
  if (!peek || !peekStage)
    return { ok: false, message: `Rollout #${input.rolloutId} has no stage "${input.stage}".` };
  const team = configTeam(deps.config, peek.rollout.teamId);
  // A replayed or late click that changes nothing and is not audited (see `answeredWithoutVote`)
  // is answered from this read, without queueing for the rollout's lock.
  if (answeredWithoutVote(peek, peekStage, input.actor.id))
    return { ok: false, message: alreadyDecided(peek, peekStage) };
  const peekPolicy = rolloutPolicy(deps.config, team, peekStage.name, peekStage.kind as StageKind);
  const groups = await deps.membership.groupsOf(input.actor.id, eligibleGroups(peekPolicy));

  const decide = async (step: RolloutStep): Promise<Outcome> => {
    const stage = step.loaded.stages.find((s) => s.name === input.stage);
    if (!stage) return { ok: false, message: `Rollout #${input.rolloutId} has no stage "${input.stage}".` };
    const policy = step.policyOf(stage);
    const denied = (message: string, code: string): Outcome => {
      step.audit(input.actor, "stage.approve", "denied", input.origin, { stage, payload: { code, message } });
      return { ok: false, message };
    };
    // A stage that has run out of time expires now, whatever the timer job has done so far.
    if (stage.state === "awaiting_approval" && stage.expiresAt && step.now >= stage.expiresAt) {
      await step.setStage(stage, { state: "expired" });
      step.audit({ id: "system", name: "patchpilot" }, "stage.expired", "ok", input.origin, { stage });
      return denied(
        `The approval request for *${stage.name}* expired at ${hhmm(stage.expiresAt)}; ask for a new one from the card.`,
        "expired",
      );
    }
    const waitingForWindow = stage.state === "approved" && stage.scheduledFor !== null;
    if (stage.state !== "awaiting_approval" && !waitingForWindow) {
      if (answeredWithoutVote(step.loaded, stage, input.actor.id))
        return { ok: false, message: alreadyDecided(step.loaded, stage) };
      return denied(
        `You cannot approve this: *${stage.name}* ${describeStageState(stage.state as StageState)}.`,
        "not_awaiting",
      );
    }
    if (policy.confirm && input.confirmed !== true)
      return {
        ok: false,
        message: `*${stage.name}* is approved from its confirmation dialog; use the card's button.`,
      };

    const isBuild = stage.kind !== "deploy";
    const scan = isBuild
      ? { candidateScanned: true, delta: null }
      : await loadCandidateDelta(
          step.tx,
          step.loaded.rollout.imageId,
          step.loaded.rollout.runningDigest,
          step.loaded.rollout.candidateDigest,
          step.alsoRead,
        );
    const candidate = isBuild ? (stage.targetDigest ?? "build") : step.loaded.rollout.candidateDigest;
    const votes = votesOf(step.loaded, stage);
    const verdict = checkApprover({
      policy,
      voter: { userId: input.actor.id, groups },
      triggeredBy: step.loaded.rollout.requestedBy,
      requestedBy: stage.requestedBy ?? step.loaded.rollout.requestedBy,
      votes,
      candidateDigest: candidate,
      // A build stage has no candidate yet: its button is bound to the digest being rebuilt.
      buttonDigest: isBuild ? candidate : input.buttonDigest,
      candidateScanned: scan.candidateScanned,
      blockingFindings: scan.delta?.blocking ?? [],
      overrideReason: input.overrideReason ?? null,
    });
    if (!verdict.ok) {
      if (verdict.refusal.code === "already_voted") return { ok: false, message: verdict.refusal.message };
      // The override group may let it through with a reason: ask for one rather than refuse.
      const blocking = scan.delta?.blocking ?? [];
      if (
        verdict.refusal.code === "blocked" &&
        policy.overrideGroup !== null &&
        groups.includes(policy.overrideGroup) &&
        !input.overrideReason?.trim()
      )
        return { ok: false, message: verdict.refusal.message, needsOverrideReason: blocking };
      return denied(verdict.refusal.message, verdict.refusal.code);
    }
    await recordVote(step, stage, input.actor, {
      candidateDigest: candidate,
      groups,
      reason: input.overrideReason ?? null,
      override: verdict.override,
    });
    step.audit(input.actor, "stage.approved", "ok", input.origin, {
      stage,
      payload: {
        groups,
        override: verdict.override,
        ...(verdict.override ? { reason: input.overrideReason } : {}),
      },
    });

    const needsOverride = policy.blockNewCritical && (scan.delta?.blocking.length ?? 0) > 0;
    const all = votesOf(step.loaded, stage);
    const normal = quorum(policy, all, candidate, { needsOverride });
    if (!normal.met)
      return {
        ok: true,
        message: `✅ You approved *${stage.name}*. Still needed: ${normal.missing.join(", ")}.`,
      };
    if (stage.state === "awaiting_approval") {
      const t = transitionStage(
        { state: "awaiting_approval", expiresAt: stage.expiresAt },
        { type: "quorum_met" },
        step.now,
      );
      if (!t.ok) return denied(t.refusal, "transition");
      await step.setStage(stage, { state: t.state });
    }
    // Outside the window, the emergency lane's stricter quorum lets an urgent fix go now.
    const timing = await dispatchTiming(step, stage, policy);
    const urgent =
      timing.kind === "wait_for_window" && policy.emergency !== null && scan.delta !== null
        ? await fixesUrgent(step, scan.delta.fixedUrgent)
        : false;
    const emergency = urgent && quorum(policy, all, candidate, { needsOverride, emergency: true }).met;
    if (waitingForWindow && !emergency) {
      const held =
        timing.kind === "frozen"
          ? ` is held by a freeze: ${timing.freeze.reason}`
          : " still waits for its window";
      return { ok: true, message: `✅ Your approval is recorded; *${stage.name}*${held}.` };
    }
    if (emergency) await step.setStage(stage, { emergency: true });
    await scheduleDispatch(step, stage, input.actor, input.origin, emergency ? undefined : timing);
    if (stage.scheduledFor)
      return {
        ok: true,
        message: `✅ Approved. *${stage.name}* waits for its maintenance window, opening <!date^${Math.floor(stage.scheduledFor.getTime() / 1000)}^{date_short_pretty} {time}|${hhmm(stage.scheduledFor)}>.${urgent ? ` It fixes an urgent finding, so it could go now through the emergency lane; still needed for that: ${quorum(policy, all, candidate, { needsOverride, emergency: true }).missing.join(", ")}.` : ""}`,
      };
    if (stage.blockedReason)
      return { ok: true, message: `✅ Approved, but not dispatched: ${stage.blockedReason}.` };
    return {
      ok: true,
      message: `✅ Approved. *${stage.name}* is being dispatched${emergency ? " now through the emergency lane (window skipped)" : ""}.`,
    };
  };
  // The read above is used as is under the lock when the rollout has not changed since; so is the
  // candidate's scan, read from it in the transaction's opening round trip.
  const findings =
    peekStage.kind === "deploy"
      ? candidateFindingsRead(peek.rollout.imageId, peek.rollout.runningDigest, peek.rollout.candidateDigest)
      : null;
  return inRolloutTx(deps, input.rolloutId, decide, peek, findings);
}
