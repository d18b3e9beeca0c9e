import { activeFreeze } from "./active-freeze.js";
import type { Freeze } from "./freeze.js";
import type { MaintenanceWindow } from "./maintenance-window.js";
import { windowState } from "./window-state.js";

export type DispatchTiming =
  | { kind: "now" }
  | { kind: "wait_for_window"; opensAt: Date }
  | { kind: "frozen"; freeze: Freeze };

export type DispatchTimingInput = {
  window?: MaintenanceWindow | undefined;
  freezes: readonly Freeze[];
  environment: string;
  now: Date;
  emergency: boolean;
};

/**
 * Whether a deployment to `environment` may start now. A freeze always blocks, even an emergency:
 * freezes exist for the moments when nobody may change production. An emergency skips only the
 * maintenance window.
 */
export function decideDispatchTiming(input: DispatchTimingInput): DispatchTiming {
  const freeze = activeFreeze(input.freezes, input.environment, input.now);
  if (freeze !== null) return { kind: "frozen", freeze };
  if (input.emergency || input.window === undefined) return { kind: "now" };
  const state = windowState(input.window, input.now);
  return state.open ? { kind: "now" } : { kind: "wait_for_window", opensAt: state.opensAt };
}
