import type { MaintenanceWindow } from "./maintenance-window.js";
import { type WindowSchedule, windowSchedule } from "./window-schedule.js";

export type WindowState = { open: true; closesAt: Date } | { open: false; opensAt: Date; closesAt: Date };

// A cron that opens again before it closes (every minute for an hour) is open for good; stop
// extending after this many openings rather than loop forever.
const MAX_CHAINED_OPENINGS = 1000;

/** The opening that is under way at `now` or comes next, with its closing time and the one after. */
export function currentOrNextOpening(
  schedule: WindowSchedule,
  now: number,
): { opensAt: number; closesAt: number; followingOpensAt: number } {
  // Only an opening less than one duration ago can still be open now.
  const starts = schedule.startsAfter(now - schedule.durationMs);
  const opensAt = starts.next().value;
  let closesAt = opensAt + schedule.durationMs;
  for (let i = 0; i < MAX_CHAINED_OPENINGS; i++) {
    const following = starts.next().value;
    // An opening at or before the close continues the same open period.
    if (following > closesAt) return { opensAt, closesAt, followingOpensAt: following };
    closesAt = following + schedule.durationMs;
  }
  return { opensAt, closesAt, followingOpensAt: starts.next().value };
}

/**
 * Whether the window is open at `now` (some opening s with s <= now < s + duration) and until
 * when; if closed, when it next opens and closes. Back-to-back or overlapping openings count as one
 * open period.
 */
export function windowState(w: MaintenanceWindow, now: Date): WindowState {
  const { opensAt, closesAt } = currentOrNextOpening(windowSchedule(w), now.getTime());
  if (opensAt <= now.getTime()) return { open: true, closesAt: new Date(closesAt) };
  return { open: false, opensAt: new Date(opensAt), closesAt: new Date(closesAt) };
}
