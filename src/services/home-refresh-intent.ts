import { alertWindow } from "../core/alerts/alert-window.js";
import type { Tx } from "../db/client.js";
import { insertIntents, type OutboxIntent } from "../db/outbox-repository.js";

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

/**
 * Queues, in the caller's transaction, a Home refresh for each team a change touched (an
 * acceptance made, revoked or expired, a VEX import): their viewers' open findings and SLA
 * breaches just changed. Delivered by the outbox reconciler once the window closes.
 */
export async function refreshHomesOf(tx: Tx, teamIds: Iterable<string | null>, now: Date): Promise<void> {
  // Sorted: transactions refreshing the same teams insert their keys in one order, never deadlock.
  const teams = [...new Set([...teamIds].filter((t): t is string => t !== null))].sort();
  if (teams.length > 0)
    await insertIntents(
      tx,
      teams.map((t) => homeRefreshIntent(t, now)),
    );
}
