import { fourEyesRefusal } from "../../core/rollout/check-approver.js";
import type { StageState } from "../../core/rollout/stage-state.js";
import { describeStageState, type StageEvent, transitionStage } from "../../core/rollout/transition-stage.js";
import type { StageRow } from "../../db/rollout-repository.js";
import { actorGroups, mayActOn, notAnApprover } from "./actor-rights.js";
import { advance, askApprovers } from "./open-stage.js";
import type { Actor, Origin, Outcome, RolloutDeps } from "./rollout-deps.js";
import { inRolloutTx, type RolloutStep } from "./rollout-tx.js";
import { scheduleDispatch } from "./schedule-dispatch.js";

export type StageDecision = {
  rolloutId: number;
  stage: string;
  actor: Actor;
  origin: Origin;
  reason?: string | null;
};

type Kind = "reject" | "retry" | "request_again" | "promote";

const VERB: Record<Kind, { what: string; action: string; done: (stage: string) => string }> = {
  reject: {
    what: "reject it",
    action: "stage.rejected",
    done: (s) => `:no_entry: You rejected *${s}*. The rollout is halted.`,
  },
  retry: {
    what: "retry it",
    action: "stage.retried",
    done: (s) => `:repeat: *${s}* will be dispatched again.`,
  },
  promote: {
    what: "promote it",
    action: "stage.promoted",
    done: (s) => `:white_check_mark: You promoted *${s}*; the rollout goes on.`,
  },
  request_again: {
    what: "ask again",
    action: "stage.approval_requested",
    done: (s) => `:bell: Approval for *${s}* requested again; its approvers were asked in the thread.`,
  },
};

/**
 * Reject (with a reason), retry a failed stage, ask again after an expiry or a rejection, or promote
 * a deployed stage whose health gate was inconclusive. Only
 * the stage's approvers may, and with four-eyes on, not the rollout's requester (nor whoever
 * asked for the stage) to promote; a refusal is audited as denied and changes nothing else.
 */
export async function decideStage(deps: RolloutDeps, kind: Kind, input: StageDecision): Promise<Outcome> {
  const groups = await actorGroups(deps, input.rolloutId, input.actor.id);
  return inRolloutTx(deps, input.rolloutId, async (step) => {
    const stage = step.loaded.stages.find((s) => s.name === input.stage);
    if (!stage) return { ok: false, message: `Rollout #${input.rolloutId} has no stage "${input.stage}".` };
    const policy = step.policyOf(stage);
    const verb = VERB[kind];
    const denied = (message: string, code?: string): Outcome => {
      step.audit(input.actor, `stage.${kind}`, "denied", input.origin, {
        stage,
        payload: code ? { code, message } : { message },
      });
      return { ok: false, message };
    };
    if (!mayActOn(policy, input.actor.id, groups)) return denied(notAnApprover(policy, verb.what));
    // A rollout being (or already) rolled back, or cancelled, does not go forward again: an old
    // alert's Retry must not redeploy what was rolled back.
    const over = step.loaded.rollout.state;
    if (
      stage.kind !== "rollback" &&
      (over === "rolling_back" || over === "rolled_back" || over === "cancelled")
    )
      return denied(
        `You cannot ${verb.what}: rollout #${input.rolloutId} is ${over.replace("_", " ")}. Start a new rollout with \`/patch rollout\` instead.`,
      );
    if (kind === "reject" && !input.reason?.trim())
      return { ok: false, message: "A rejection needs a reason." };
    const event: StageEvent = { type: kind };
    const t = transitionStage(
      {
        state: stage.state as StageState,
        expiresAt: stage.expiresAt,
        gate: stage.health?.status === "inconclusive" ? "inconclusive" : "baking",
      },
      event,
      step.now,
    );
    if (!t.ok)
      return denied(
        `You cannot ${verb.what}: *${stage.name}* ${describeStageState(stage.state as StageState)}.`,
      );
    // Promoting past an inconclusive gate lets the stage go on, as an approval does: the same
    // four-eyes rule applies (the requester and whoever asked for the stage may not do it alone).
    if (kind === "promote") {
      const refusal = fourEyesRefusal(
        policy,
        input.actor.id,
        {
          triggeredBy: step.loaded.rollout.requestedBy,
          requestedBy: stage.requestedBy ?? step.loaded.rollout.requestedBy,
        },
        verb.what,
      );
      if (refusal) return denied(refusal.message, refusal.code);
    }
    await apply(step, stage, kind, t.state, input);
    return { ok: true, message: verb.done(stage.name) };
  });
}

async function apply(
  step: RolloutStep,
  stage: StageRow,
  kind: Kind,
  state: StageState,
  input: StageDecision,
) {
  const policy = step.policyOf(stage);
  const decided = {
    decidedBy: input.actor.id,
    decidedByName: input.actor.name,
    decisionReason: input.reason ?? null,
  };
  step.audit(input.actor, VERB[kind].action, "ok", input.origin, {
    stage,
    payload: input.reason ? { reason: input.reason } : {},
  });
  if (kind === "reject") {
    await step.setStage(stage, { state, ...decided, scheduledFor: null, blockedReason: null });
    return;
  }
  if (kind === "promote") {
    // The gate could not judge it; a person vouches for it, on the record, and it goes on.
    await step.setStage(stage, { state, ...decided, completedAt: step.now });
    await advance(step, input.actor, input.origin);
    return;
  }
  if (kind === "retry") {
    await step.setStage(stage, {
      state,
      ...decided,
      runId: null,
      runUrl: null,
      runStatus: null,
      runConclusion: null,
      health: null,
    });
    await scheduleDispatch(step, stage, input.actor, input.origin);
    return;
  }
  await step.setStage(stage, {
    state,
    ...decided,
    round: stage.round + 1,
    requestedBy: input.actor.id,
    requestedAt: step.now,
    expiresAt: new Date(step.now.getTime() + policy.expiryMs),
    candidateDigest: step.loaded.rollout.candidateDigest,
  });
  await askApprovers(step, stage);
  await advance(step, input.actor, input.origin);
}
