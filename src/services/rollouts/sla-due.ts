import type { PatchpilotConfig } from "../../config/file-schema.js";

const DAY_MS = 86_400_000;

/** When a critical finding first seen at `firstSeenAt` is due under the configured SLA. */
export function slaClockDueAt(config: PatchpilotConfig, firstSeenAt: Date): Date {
  return new Date(firstSeenAt.getTime() + config.sla.critical * DAY_MS);
}
