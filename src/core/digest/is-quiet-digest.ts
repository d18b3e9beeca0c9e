import { totalOf } from "./severity-counts.js";
import type { TeamDigest } from "./team-digest.js";

/**
 * A quiet period gets a one-line heartbeat instead of the full digest: nothing new was found,
 * nothing is past its SLA, no approval or breach waits for a decision and no base image moved.
 * Patches shipped or acceptances running out do not make a period loud; the heartbeat names them.
 */
export function isQuietDigest(
  d: Pick<
    TeamDigest,
    "newSinceLast" | "breached" | "slaBreaches" | "rolloutsAwaitingApproval" | "baseImagesMoved"
  >,
): boolean {
  return (
    totalOf(d.newSinceLast) === 0 &&
    d.breached === 0 &&
    d.slaBreaches.length === 0 &&
    d.rolloutsAwaitingApproval.length === 0 &&
    d.baseImagesMoved.length === 0
  );
}
