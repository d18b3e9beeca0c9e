import { verifiesDeploy } from "../../core/rollout/stage-policy.js";
import type { StageState } from "../../core/rollout/stage-state.js";
import { type StageEvent, transitionStage } from "../../core/rollout/transition-stage.js";
import { findStageByRun } from "../../db/rollout-repository.js";
import { startVerifying } from "./health-gate.js";
import { advance } from "./open-stage.js";
import { type Origin, type RolloutDeps, SYSTEM_ACTOR } from "./rollout-deps.js";
import { inRolloutTx } from "./rollout-tx.js";

/** What GitHub says about a run, from a `workflow_run` webhook or the poller. */
export type RunReport = {
  runId: string;
  /** The run's display title (its `run-name`), which carries our dispatch id. */
  title: string;
  status: string;
  conclusion: string | null;
  htmlUrl: string | null;
};

const DISPATCH_ID = /\bpp-\d+-\d+-\d+-[0-9a-f]{8}\b/;

export function dispatchIdIn(title: string): string | undefined {
  return DISPATCH_ID.exec(title)?.[0];
}

const SUCCESS = new Set(["success", "neutral"]);

function eventOf(run: RunReport, verify: boolean): StageEvent | null {
  if (run.status === "completed")
    return SUCCESS.has(run.conclusion ?? "") ? { type: "run_succeeded", verify } : { type: "run_failed" };
  if (run.status === "in_progress") return { type: "run_started" };
  return null;
}

/**
 * Moves the stage a run belongs to (found by run id, else by the dispatch id in its title). A
 * report that would move the stage backwards (an `in_progress` arriving after `completed`) is
 * recorded as ignored and changes nothing; a success opens the next stage, a failure halts the
 * rollout and the card offers Retry and Roll back. Returns whether the run was one of ours.
 */
export async function applyWorkflowRun(
  deps: RolloutDeps,
  run: RunReport,
  origin: Origin,
): Promise<"applied" | "ignored" | "unknown"> {
  const dispatchId = dispatchIdIn(run.title);
  const found = await findStageByRun(deps.db, { runId: run.runId, dispatchId });
  if (!found) return "unknown";
  return inRolloutTx(deps, found.rolloutId, async (step) => {
    const stage = step.loaded.stages.find((s) => s.id === found.stageId);
    if (!stage) return "unknown";
    // A run of an earlier attempt (before a retry) no longer speaks for the stage.
    if (stage.runId !== null && stage.runId !== run.runId && dispatchId !== stage.dispatchId)
      return "ignored";
    if (dispatchId !== undefined && stage.dispatchId !== dispatchId && stage.runId !== run.runId)
      return "ignored";
    // A deployed stage with a bake time or health check is judged before it counts as done.
    const event = eventOf(run, stage.kind === "deploy" && verifiesDeploy(step.policyOf(stage)));
    const t = event
      ? transitionStage({ state: stage.state as StageState, expiresAt: null }, event, step.now)
      : null;
    const runFields = {
      runId: run.runId,
      runUrl: run.htmlUrl ?? stage.runUrl,
      runStatus: run.status,
      runConclusion: run.conclusion,
      // A run that exists was dispatched, even if our record of the dispatch was lost.
      dispatchedAt: stage.dispatchedAt ?? step.now,
    };
    if (!t?.ok) {
      // Nothing new (a poll of a run still going, a queued run): no audit row, at most the run's id.
      const news = t !== null && (run.status !== stage.runStatus || run.conclusion !== stage.runConclusion);
      if (!news) {
        if (stage.runId === null || stage.runStatus !== run.status) await step.setStage(stage, runFields);
        return "ignored";
      }
      step.audit(SYSTEM_ACTOR, `run.${run.status}`, "ignored", origin, {
        stage,
        payload: { run: run.runId, conclusion: run.conclusion, stageState: stage.state },
      });
      if (stage.runId === null) await step.setStage(stage, runFields);
      return "ignored";
    }
    const state = t.state;
    await step.setStage(stage, {
      ...runFields,
      state,
      ...(state === "done" || state === "failed" ? { completedAt: step.now } : {}),
    });
    step.audit(SYSTEM_ACTOR, `run.${run.status}`, "ok", origin, {
      stage,
      payload: { run: run.runId, conclusion: run.conclusion, url: run.htmlUrl, stageState: state },
    });
    if (state === "verifying") await startVerifying(step, stage, step.policyOf(stage));
    if (state === "done") await advance(step, SYSTEM_ACTOR, origin);
    return "applied";
  });
}
