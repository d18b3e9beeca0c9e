import type { MaintenanceWindow } from "./maintenance-window.js";
import { windowSchedule } from "./window-schedule.js";
import { currentOrNextOpening } from "./window-state.js";

/**
 * When the window next opens after `now`. While it is open, that is the opening after the current
 * period closes, so "next window: Tue 10:00" never names the one already under way.
 */
export function nextOpening(w: MaintenanceWindow, now: Date): Date {
  const t = now.getTime();
  const { opensAt, followingOpensAt } = currentOrNextOpening(windowSchedule(w), t);
  return new Date(opensAt > t ? opensAt : followingOpensAt);
}
