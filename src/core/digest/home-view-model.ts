import type { AwaitingRollout } from "./awaiting-rollout.js";
import type { SlaBreach } from "./sla-breach.js";
import type { TeamPosture } from "./team-posture.js";

/** What one person's App Home shows: their teams, approvals they may give, their teams' breaches. */
export type HomeViewModel = {
  viewerId: string;
  generatedAt: Date;
  teams: TeamPosture[];
  /** Rollouts waiting at a stage this viewer may approve (not ones they requested: four-eyes). */
  approvalsWaiting: AwaitingRollout[];
  slaBreaches: SlaBreach[];
};
