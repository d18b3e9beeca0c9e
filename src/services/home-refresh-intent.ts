import { alertWindow } from "../core/alerts/alert-window.js";
import type { OutboxIntent } from "../db/outbox-repository.js";

/** Changes to one team within this window refresh its viewers' Home tabs once, when it closes. */
export const HOME_REFRESH_WINDOW_MS = 10_000;
// Delivered a moment after the window closes, so a change committing at its very end is seen.
const SETTLE_MS = 2_000;

/**
 * The outbox intent that refreshes the App Home of a team's recent viewers (see refresh-homes.ts).
 * Every change of the same team in the same window shares one intent, delivered just after the
 * window's end.
 */
export function homeRefreshIntent(teamId: string, now: Date): OutboxIntent {
  const window = alertWindow(now, HOME_REFRESH_WINDOW_MS);
  return {
    kind: "home.refresh",
    dedupeKey: `home-refresh:${teamId}:${window.start.toISOString()}`,
    payload: { teamId },
    availableAt: new Date(window.end.getTime() + SETTLE_MS),
  };
}
