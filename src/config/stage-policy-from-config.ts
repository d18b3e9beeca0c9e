import { durationMs } from "../core/duration-ms.js";
import type { StagePolicy } from "../core/rollout/stage-policy.js";
import type { ConfigImage, ConfigTeam } from "./config-lookup.js";
import type { PatchpilotConfig } from "./file-schema.js";

/** The stages an image goes through, in order: its own list or the default one. */
export function stagesOfImage(config: PatchpilotConfig, image: ConfigImage): string[] {
  return image.stages ?? config.defaultStages;
}

/**
 * One stage's policy for one team's image. A stage the config does not describe gets the
 * defaults (one approval, four-eyes, 72 h); approvers default to the owning team's.
 */
export function stagePolicyFromConfig(
  config: PatchpilotConfig,
  stage: string,
  team: ConfigTeam,
): StagePolicy {
  const s = config.stages[stage];
  return {
    stage,
    environment: s?.environment ?? stage,
    approvals: s?.approvals ?? 1,
    approvers: s?.approvers ?? team.approvers,
    requiredGroups: s?.requiredGroups ?? [],
    fourEyes: s?.fourEyes ?? true,
    expiryMs: durationMs(s?.expiry ?? "72h"),
    confirm: s?.confirm ?? false,
    blockNewCritical: s?.blockNewCritical ?? true,
    overrideGroup: s?.overrideGroup ?? null,
    emergency: s?.emergency ?? null,
    window: s?.window ?? null,
    bakeMs: s?.bakeTime ? durationMs(s.bakeTime) : 0,
    healthCheck: s?.healthCheck ?? null,
    autoRollback: s?.autoRollback ?? false,
  };
}

/**
 * The policy for rolling a stage back: the team's approvers, `rollback.approvals` of them (one by
 * default, so the person asking can roll back at once), no four-eyes — speed matters more here.
 */
export function rollbackPolicyFromConfig(
  config: PatchpilotConfig,
  stage: string,
  team: ConfigTeam,
): StagePolicy {
  const forward = stagePolicyFromConfig(config, stage, team);
  return {
    ...forward,
    stage: `rollback-${stage}`,
    approvals: config.rollback.approvals,
    requiredGroups: [],
    fourEyes: false,
    confirm: false,
    blockNewCritical: false,
    overrideGroup: null,
    emergency: null,
    window: null,
    bakeMs: 0,
    healthCheck: null,
    autoRollback: false,
  };
}
