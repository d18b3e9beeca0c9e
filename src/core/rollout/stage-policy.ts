/** Who may approve a stage and how many must, resolved from the config for one image's stage. */
export type StagePolicy = {
  stage: string;
  /** The environment freezes are matched against (the stage name unless configured). */
  environment: string;
  approvals: number;
  approvers: { groups: readonly string[]; users: readonly string[] };
  /** At least one approval from each of these groups. */
  requiredGroups: readonly string[];
  /** The person who started the rollout and the one who requested this stage may not approve it. */
  fourEyes: boolean;
  expiryMs: number;
  /** Production-like stages: the approve button opens a confirmation dialog. */
  confirm: boolean;
  /** A candidate that introduces a critical or known-exploited finding needs an override. */
  blockNewCritical: boolean;
  overrideGroup: string | null;
  /** The stricter approval that lets a fix for a known-exploited or overdue critical skip the window. */
  emergency: { approvals: number; requiredGroups: readonly string[] } | null;
  window: string | null;
  /** After a successful deploy: how long it bakes before its health gate runs (0 = none). */
  bakeMs: number;
  /** The health check (config id) that judges the deployed stage, if any. */
  healthCheck: string | null;
  /** A failed health gate dispatches the rollback workflow on its own. */
  autoRollback: boolean;
};

/** Whether a deployed stage is judged (baked and/or health-checked) before it counts as done. */
export function verifiesDeploy(policy: StagePolicy): boolean {
  return policy.bakeMs > 0 || policy.healthCheck !== null;
}

/** Everyone the policy lets vote: approvers, required groups and the override group. */
export function eligibleGroups(policy: StagePolicy): string[] {
  return [
    ...new Set([
      ...policy.approvers.groups,
      ...policy.requiredGroups,
      ...(policy.overrideGroup ? [policy.overrideGroup] : []),
      ...(policy.emergency?.requiredGroups ?? []),
    ]),
  ];
}
