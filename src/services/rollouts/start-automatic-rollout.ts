import { type RolloutDeps, SYSTEM_ACTOR } from "./rollout-deps.js";
import { findConfiguredImage, startRollout } from "./start-rollout.js";

/**
 * `autoRollout: fixable-critical`: a scan that brings a new fixable critical or known-exploited
 * finding starts a rollout by itself (if none is open), with the reason recorded. Patchpilot is
 * the requester, so every human approver may approve it; the stages' policies apply as always.
 */
export async function startAutomaticRollout(deps: RolloutDeps, repository: string): Promise<void> {
  const image = findConfiguredImage(deps.config, repository);
  if (image?.autoRollout !== "fixable-critical") return;
  await startRollout(deps, {
    image: image.id,
    actor: SYSTEM_ACTOR,
    origin: { source: "system", trigger: "new fixable critical or known-exploited finding" },
    reason: "A scan found a new fixable critical or known-exploited finding",
    trigger: "auto-critical",
  });
}
