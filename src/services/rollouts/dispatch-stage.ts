import { z } from "zod";
import { NotYet } from "../../adapters/slack-errors.js";
import type { StageRow } from "../../db/rollout-repository.js";
import { type GithubActions, isPermanentGithubError } from "./github-actions-port.js";
import { type RolloutDeps, SYSTEM_ACTOR } from "./rollout-deps.js";
import { inRolloutTx, type RolloutStep } from "./rollout-tx.js";
import { describeHold, dispatchTiming } from "./schedule-dispatch.js";

export const dispatchPayload = z.object({
  rolloutId: z.number().int(),
  stageId: z.number().int(),
  dispatchId: z.string().min(1),
});
export type DispatchPayload = z.infer<typeof dispatchPayload>;

const FREEZE_RECHECK_MS = 60_000;
const ORIGIN = { source: "system", job: "dispatch" };

function workflowOf(step: RolloutStep, stage: StageRow): string | undefined {
  const w = step.image?.github?.workflows;
  if (stage.kind === "build") return w?.build;
  if (stage.kind === "rollback") return w?.rollback;
  return w?.deploy;
}

/**
 * Delivers a committed dispatch intent: under the rollout's lock, re-checks that the stage is
 * still approved for this dispatch id and not frozen or outside its window, then looks for a run
 * that already carries the dispatch id (a crash after GitHub accepted the dispatch but before we
 * recorded it) and only otherwise dispatches. The run is recorded in the same transaction, so a
 * stage is dispatched once whatever dies when.
 */
export async function dispatchStage(
  deps: RolloutDeps & { github: GithubActions },
  payload: DispatchPayload,
): Promise<Record<string, unknown>> {
  const result = await inRolloutTx(
    deps,
    payload.rolloutId,
    async (step): Promise<Record<string, unknown>> => {
      const stage = step.loaded.stages.find((s) => s.id === payload.stageId);
      if (!stage || stage.dispatchId !== payload.dispatchId)
        return { skipped: "superseded by a later dispatch" };
      if (stage.state !== "approved") return { skipped: `stage is ${stage.state}` };
      const policy = step.policyOf(stage);
      const timing = await dispatchTiming(step, stage, policy);
      if (timing.kind !== "now") {
        const zone = policy.window ? (deps.config.windows[policy.window]?.timezone ?? null) : null;
        const reason = describeHold(timing, policy, zone);
        if (reason !== stage.blockedReason) {
          await step.setStage(stage, {
            blockedReason: reason,
            scheduledFor: timing.kind === "wait_for_window" ? timing.opensAt : null,
          });
          step.audit(
            SYSTEM_ACTOR,
            timing.kind === "frozen" ? "stage.frozen" : "stage.waiting_for_window",
            "ok",
            ORIGIN,
            {
              stage,
              payload: { reason },
            },
          );
        }
        const retryInMs =
          timing.kind === "wait_for_window"
            ? Math.max(1_000, timing.opensAt.getTime() - step.now.getTime())
            : FREEZE_RECHECK_MS;
        return { retryInMs };
      }
      const github = step.image?.github;
      const workflow = workflowOf(step, stage);
      if (!github || !workflow) {
        const message = `No ${stage.kind} workflow is configured for ${step.image?.id ?? step.repository}; set images[].github.workflows in patchpilot.yaml.`;
        await step.setStage(stage, { state: "failed", decisionReason: message, completedAt: step.now });
        step.audit(SYSTEM_ACTOR, "stage.dispatch_failed", "failed", ORIGIN, { stage, payload: { message } });
        return { failed: message };
      }
      const [owner = "", repo = ""] = github.repo.split("/");
      const inputs = {
        rollout_id: String(step.loaded.rollout.id),
        stage: stage.kind === "rollback" ? stage.name.replace(/^rollback-/, "") : stage.name,
        image: step.repository,
        digest: stage.targetDigest ?? "",
        dispatch_id: payload.dispatchId,
      };
      try {
        const existing = await deps.github.findRunByDispatchId({
          owner,
          repo,
          workflow,
          dispatchId: payload.dispatchId,
          createdAfter: step.loaded.rollout.createdAt,
        });
        const run = existing
          ? { runId: existing.id, htmlUrl: existing.htmlUrl }
          : await deps.github.dispatchWorkflow({ owner, repo, workflow, ref: github.ref, inputs });
        await step.setStage(stage, {
          state: "dispatched",
          runId: run.runId === null ? null : String(run.runId),
          runUrl: run.htmlUrl,
          dispatchedAt: step.now,
          blockedReason: null,
          scheduledFor: null,
        });
        step.audit(SYSTEM_ACTOR, "stage.dispatched", "ok", ORIGIN, {
          stage,
          payload: {
            repo: github.repo,
            workflow,
            ref: github.ref,
            inputs,
            run: run.runId,
            foundExisting: existing !== null,
          },
        });
        return { dispatched: true, runId: run.runId, foundExisting: existing !== null };
      } catch (e) {
        if (!isPermanentGithubError(e)) throw e;
        await step.setStage(stage, { state: "failed", decisionReason: e.message, completedAt: step.now });
        step.audit(SYSTEM_ACTOR, "stage.dispatch_failed", "failed", ORIGIN, {
          stage,
          payload: { message: e.message },
        });
        return { failed: e.message };
      }
    },
  );
  if (typeof result.retryInMs === "number")
    throw new NotYet("stage held by a freeze or window", result.retryInMs);
  return result;
}
