import type { ConfigTeam } from "../../config/config-lookup.js";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import { rollbackPolicyFromConfig, stagePolicyFromConfig } from "../../config/stage-policy-from-config.js";
import type { StagePolicy } from "../../core/rollout/stage-policy.js";
import type { StageKind } from "../../core/rollout/stage-state.js";

const NO_TEAM: ConfigTeam = { id: "unowned", channel: "C0NONE", approvers: { groups: [], users: [] } };

/** A stage's policy; a rollback stage (`rollback-canary`) uses the rollback policy of its stage. */
export function rolloutPolicy(
  config: PatchpilotConfig,
  team: ConfigTeam | null,
  stageName: string,
  kind: StageKind,
): StagePolicy {
  return kind === "rollback"
    ? rollbackPolicyFromConfig(config, stageName.replace(/^rollback-/, ""), team ?? NO_TEAM)
    : stagePolicyFromConfig(config, stageName, team ?? NO_TEAM);
}
