import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { PatchpilotConfig } from "./file-schema.js";

/** The `sla` section of patchpilot.yaml as the policy the SLA clocks use. */
export function slaPolicyFromConfig(sla: PatchpilotConfig["sla"]): SlaPolicy {
  return {
    days: { critical: sla.critical, high: sla.high, medium: sla.medium, low: sla.low },
    knownExploitedDays: sla.knownExploited ?? null,
    dueSoonDays: sla.dueSoonDays,
  };
}
