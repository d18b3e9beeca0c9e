import { and, asc, eq, inArray } from "drizzle-orm";
import { configTeam } from "../../config/config-lookup.js";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import type { ImageRiskRow } from "../../core/digest/image-risk-row.js";
import type { RolloutInFlight, RolloutStageProgress } from "../../core/digest/image-status.js";
import type { Vote } from "../../core/rollout/check-approver.js";
import { quorum } from "../../core/rollout/quorum.js";
import { currentStage } from "../../core/rollout/rollout-state.js";
import type { StagePolicy } from "../../core/rollout/stage-policy.js";
import type { StageKind, StageState } from "../../core/rollout/stage-state.js";
import { windowState } from "../../core/windows/window-state.js";
import type { Db } from "../../db/client.js";
import {
  findOpenRollout,
  type LoadedRollout,
  loadRollout,
  type StageRow,
} from "../../db/rollout-repository.js";
import { OPEN_ROLLOUT_STATES, rolloutStages, rollouts } from "../../db/schema/index.js";
import { loadCandidateDelta } from "./load-candidate-delta.js";
import { rolloutPolicy } from "./rollout-policy.js";
import { votesOf } from "./stage-votes.js";

export type ProgressDeps = { db: Db; config: PatchpilotConfig };

/**
 * How many more approvals the stage needs, as one number for status lines: the shortfall of the
 * count, or — when the count is reached — one per required group or override still missing.
 */
export function approvalsMissing(
  policy: StagePolicy,
  votes: readonly Vote[],
  candidateDigest: string | null,
  needsOverride: boolean,
): number {
  const q = quorum(policy, votes, candidateDigest, { needsOverride });
  if (q.met) return 0;
  const short = Math.max(0, policy.approvals - q.counted.length);
  const others = q.missing.length - (short > 0 ? 1 : 0);
  return Math.max(short, others, 1);
}

/** The policy of a stage of a loaded rollout, from the config (its team's approvers). */
export function policyOfStage(config: PatchpilotConfig, loaded: LoadedRollout, stage: StageRow): StagePolicy {
  const team = configTeam(config, loaded.rollout.teamId);
  return rolloutPolicy(config, team, stage.name, stage.kind as StageKind);
}

/** What an awaiting stage still needs, counting only votes for its candidate (digest binding). */
export function missingOf(
  config: PatchpilotConfig,
  loaded: LoadedRollout,
  stage: StageRow,
  blocking: boolean,
): number {
  const policy = policyOfStage(config, loaded, stage);
  return approvalsMissing(
    policy,
    votesOf(loaded, stage),
    stage.candidateDigest ?? stage.targetDigest,
    blocking && policy.blockNewCritical && stage.kind === "deploy",
  );
}

function nextOpening(
  config: PatchpilotConfig,
  policy: StagePolicy,
  now: Date,
): RolloutStageProgress["window"] {
  const w = policy.window ? config.windows[policy.window] : undefined;
  if (!w) return null;
  const state = windowState(w, now);
  return state.open ? null : { opensAt: state.opensAt, timeZone: w.timezone };
}

function progressOf(
  config: PatchpilotConfig,
  loaded: LoadedRollout,
  stage: StageRow,
  blocking: boolean,
  now: Date,
): RolloutStageProgress | null {
  const policy = policyOfStage(config, loaded, stage);
  const base = { name: stage.name, approvalsMissing: 0, window: null };
  const rolledBack = loaded.stages.some((s) => s.name === `rollback-${stage.name}` && s.state === "done");
  switch (stage.state as StageState) {
    case "done":
      return { ...base, state: rolledBack ? "rolled_back" : "done" };
    case "dispatched":
    case "deploying":
      return { ...base, state: "running" };
    case "verifying":
      return {
        ...base,
        state: stage.health?.status === "inconclusive" ? "health_inconclusive" : "verifying",
      };
    case "approved":
      if (stage.scheduledFor) {
        const zone = policy.window ? (config.windows[policy.window]?.timezone ?? "UTC") : "UTC";
        return {
          ...base,
          state: "waiting_for_window",
          window: { opensAt: stage.scheduledFor, timeZone: zone },
        };
      }
      // Held by a freeze: it goes when the freeze ends, not at a window.
      if (stage.blockedReason) return { ...base, state: "pending" };
      return { ...base, state: "running" };
    case "awaiting_approval":
      return {
        ...base,
        state: "awaiting_approval",
        approvalsMissing: missingOf(config, loaded, stage, blocking),
      };
    case "pending":
      return { ...base, state: "pending", window: nextOpening(config, policy, now) };
    case "failed":
    case "rejected":
    case "expired":
      return { ...base, state: "failed" };
    case "cancelled":
      // Stages cancelled by a rollback will not run; the rollback stage says what happens instead.
      return null;
  }
}

/** A loaded open rollout as `/patch status <image>` shows it: every stage with its progress. */
export async function toRolloutInFlight(
  deps: ProgressDeps,
  loaded: LoadedRollout,
  now: Date,
): Promise<RolloutInFlight> {
  const r = loaded.rollout;
  const awaiting = loaded.stages.some((s) => s.state === "awaiting_approval");
  const scan = awaiting
    ? await loadCandidateDelta(deps.db, r.imageId, r.runningDigest, r.candidateDigest)
    : null;
  const blocking = (scan?.delta?.blocking.length ?? 0) > 0;
  return {
    rolloutId: r.id,
    reason: r.reason,
    stages: loaded.stages.flatMap((s) => progressOf(deps.config, loaded, s, blocking, now) ?? []),
  };
}

/** The image's rollout in flight (active, halted or rolling back), or none. */
export async function rolloutsInFlight(
  deps: ProgressDeps,
  imageId: string,
  now: Date,
): Promise<RolloutInFlight[]> {
  const open = await findOpenRollout(deps.db, imageId);
  if (!open) return [];
  const loaded = await loadRollout(deps.db, open.id);
  return loaded ? [await toRolloutInFlight(deps, loaded, now)] : [];
}

/**
 * For team listings: each image's open rollout and the stage it is at (a rolling-back rollout is
 * at its rollback stage), keyed by image id. Needs no config: it reads stage states only.
 */
export async function openRolloutsByImage(
  db: Db,
  imageIds: readonly string[],
): Promise<Map<string, NonNullable<ImageRiskRow["rollout"]>>> {
  const out = new Map<string, NonNullable<ImageRiskRow["rollout"]>>();
  if (imageIds.length === 0) return out;
  const rows = await db
    .select({ rolloutId: rollouts.id, imageId: rollouts.imageId, stage: rolloutStages })
    .from(rollouts)
    .innerJoin(rolloutStages, eq(rolloutStages.rolloutId, rollouts.id))
    .where(and(inArray(rollouts.imageId, [...imageIds]), inArray(rollouts.state, [...OPEN_ROLLOUT_STATES])))
    .orderBy(asc(rollouts.id), asc(rolloutStages.position));
  const byRollout = new Map<number, { imageId: string; stages: StageRow[] }>();
  for (const row of rows) {
    const entry = byRollout.get(row.rolloutId) ?? { imageId: row.imageId, stages: [] };
    entry.stages.push(row.stage);
    byRollout.set(row.rolloutId, entry);
  }
  for (const [rolloutId, { imageId, stages }] of byRollout) {
    const rollback = stages.filter((s) => s.kind === "rollback").at(-1);
    const at =
      rollback ??
      currentStage(stages.map((s) => ({ ...s, kind: s.kind as StageKind, state: s.state as StageState })));
    if (!at) continue;
    out.set(imageId, { rolloutId, stage: at.name, awaitingApproval: at.state === "awaiting_approval" });
  }
  return out;
}
