import { and, eq, inArray, lt } from "drizzle-orm";
import type { Logger } from "../../adapters/logger.js";
import { loadRollout } from "../../db/rollout-repository.js";
import { images, rolloutStages } from "../../db/schema/index.js";
import { applyWorkflowRun } from "./apply-workflow-run.js";
import type { GithubActions } from "./github-actions-port.js";
import type { RolloutDeps } from "./rollout-deps.js";
import { findConfiguredImage } from "./start-rollout.js";

/** A run silent for this long is asked about: GitHub does not redeliver a lost webhook by itself. */
export const POLL_QUIET_MS = 2 * 60_000;

/**
 * Repairs lost webhooks: asks GitHub about every dispatched or deploying stage not updated for a
 * while, and applies what it says exactly as a webhook would. A stage whose run id was never
 * recorded is found by its dispatch id.
 */
export async function pollWorkflowRuns(
  deps: RolloutDeps & { github: GithubActions; logger?: Logger },
): Promise<number> {
  const quietSince = new Date(deps.now().getTime() - POLL_QUIET_MS);
  const stale = await deps.db
    .select()
    .from(rolloutStages)
    .where(
      and(inArray(rolloutStages.state, ["dispatched", "deploying"]), lt(rolloutStages.updatedAt, quietSince)),
    );
  let applied = 0;
  for (const stage of stale) {
    const loaded = await loadRollout(deps.db, stage.rolloutId);
    const repoOf = loaded ? await imageOf(deps, loaded.rollout.imageId) : null;
    const github = repoOf?.github;
    if (!github) continue;
    const [owner = "", repo = ""] = github.repo.split("/");
    const workflow =
      stage.kind === "build"
        ? github.workflows.build
        : stage.kind === "rollback"
          ? github.workflows.rollback
          : github.workflows.deploy;
    try {
      const run = stage.runId
        ? await deps.github.getRun({ owner, repo, runId: Number(stage.runId) })
        : workflow && stage.dispatchId && loaded
          ? await deps.github.findRunByDispatchId({
              owner,
              repo,
              workflow,
              dispatchId: stage.dispatchId,
              createdAfter: loaded.rollout.createdAt,
            })
          : null;
      if (!run) continue;
      const r = await applyWorkflowRun(
        deps,
        {
          runId: String(run.id),
          title: run.displayTitle,
          status: run.status,
          conclusion: run.conclusion,
          htmlUrl: run.htmlUrl,
        },
        { source: "github", poller: true },
      );
      if (r === "applied") applied++;
    } catch (e) {
      deps.logger?.warn(
        { err: e instanceof Error ? e.message : String(e), stage: stage.id },
        "polling a run failed",
      );
    }
  }
  return applied;
}

async function imageOf(deps: RolloutDeps, imageId: string) {
  const row = (await deps.db.select().from(images).where(eq(images.id, imageId)))[0];
  return row?.configId ? findConfiguredImage(deps.config, row.configId) : null;
}
