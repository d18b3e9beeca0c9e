import { configTeam } from "../../config/config-lookup.js";
import { describeApprovers } from "../../core/rollout/check-approver.js";
import type { StagePolicy } from "../../core/rollout/stage-policy.js";
import { eligibleGroups } from "../../core/rollout/stage-policy.js";
import type { StageKind } from "../../core/rollout/stage-state.js";
import { loadRollout } from "../../db/rollout-repository.js";
import type { RolloutDeps } from "./rollout-deps.js";
import { rolloutPolicy } from "./rollout-policy.js";

/**
 * The Slack groups (among those any of the rollout's stages names) the actor belongs to, asked
 * before the decision's transaction so no row lock waits on Slack.
 */
export async function actorGroups(deps: RolloutDeps, rolloutId: number, actorId: string): Promise<string[]> {
  const loaded = await loadRollout(deps.db, rolloutId);
  if (!loaded) return [];
  const team = configTeam(deps.config, loaded.rollout.teamId);
  const groups = new Set<string>(team?.approvers.groups ?? []);
  for (const s of loaded.stages)
    for (const g of eligibleGroups(rolloutPolicy(deps.config, team, s.name, s.kind as StageKind)))
      groups.add(g);
  return deps.membership.groupsOf(actorId, [...groups]);
}

/** Whether someone may act on a stage (reject, retry, roll back): every approver its policy lists may. */
export function mayActOn(policy: StagePolicy, actorId: string, groups: readonly string[]): boolean {
  return policy.approvers.users.includes(actorId) || groups.some((g) => eligibleGroups(policy).includes(g));
}

export function notAnApprover(policy: StagePolicy, what: string): string {
  return `Only approvers of *${policy.stage}* can ${what}. Approvers: ${describeApprovers(policy)}.`;
}
