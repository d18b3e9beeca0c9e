import type { StagePolicy } from "../../src/core/rollout/stage-policy.js";

/** A production stage policy for pure tests: one approval from S0PAY, four-eyes, S0SEC overrides. */
export function stagePolicy(over: Partial<StagePolicy> = {}): StagePolicy {
  return {
    stage: "production",
    environment: "production",
    approvals: 1,
    approvers: { groups: ["S0PAY"], users: [] },
    requiredGroups: [],
    fourEyes: true,
    expiryMs: 72 * 3_600_000,
    confirm: true,
    blockNewCritical: true,
    overrideGroup: "S0SEC",
    emergency: null,
    window: null,
    bakeMs: 0,
    healthCheck: null,
    autoRollback: false,
    ...over,
  };
}
