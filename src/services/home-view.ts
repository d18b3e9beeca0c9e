import type { PatchpilotConfig } from "../config/file-schema.js";
import type { HomeViewModel } from "../core/digest/home-view-model.js";
import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { Db } from "../db/client.js";
import { recordHomeViewer } from "../db/home-viewer-repository.js";
import { toSlaBreaches } from "./build-team-digest.js";
import type { GroupMembership } from "./group-membership.js";
import { urgentFindings } from "./posture/urgent-findings.js";
import { approvalsWaitingFor } from "./rollouts/rollouts-awaiting.js";
import { teamStatusView } from "./status-views.js";

/** Enough for the Home tab to list its ten and count the rest truthfully for any real team. */
const URGENT_PER_TEAM = 200;

export type HomeViewDeps = {
  db: Db;
  sla: SlaPolicy;
  teamsOfUser: (userId: string, channelId: string) => Promise<string[]>;
  now: () => Date;
  /** Stage policies, for the approvals waiting for the viewer; without it none are listed. */
  config?: PatchpilotConfig;
  /** Who is in which approver group; without it, approver groups count the viewer's teams. */
  membership?: GroupMembership;
};

/**
 * The App Home of a viewer who is opening it (app_home_opened): also remembers them as a Home
 * viewer, so that later changes to their teams refresh their tab (see refresh-homes.ts). The
 * remembering is best effort: if it fails, the tab is still built and published.
 */
export function createHomeView(deps: HomeViewDeps) {
  const build = createHomeViewModel(deps);
  return async (userId: string): Promise<HomeViewModel> => {
    const remembered = recordHomeViewer(deps.db, userId, deps.now()).catch(() => undefined);
    const [view] = await Promise.all([build(userId), remembered]);
    return view;
  };
}

/**
 * Builds a Slack user's App Home: the teams the config and Slack say they belong to (there is no
 * channel on the Home tab, so only approver lists and groups count), each team's posture and
 * its findings past SLA. Builds only: a refresh must not count as the viewer opening the tab.
 */
export function createHomeViewModel(deps: HomeViewDeps) {
  return async (userId: string): Promise<HomeViewModel> => {
    const now = deps.now();
    const teamIds = await deps.teamsOfUser(userId, "");
    const config = deps.config;
    const approvals = config
      ? approvalsWaitingFor(
          { db: deps.db, config, ...(deps.membership ? { membership: deps.membership } : {}) },
          { userId, viewerTeams: teamIds },
        )
      : Promise.resolve([]);
    const [approvalsWaiting, perTeam] = await Promise.all([
      approvals,
      Promise.all(
        teamIds.map(async (teamId) => {
          const [status, urgent] = await Promise.all([
            teamStatusView(deps.db, { teamId, now, sla: deps.sla }),
            urgentFindings(deps.db, {
              scope: { kind: "team", teamId },
              now,
              sla: deps.sla,
              limit: URGENT_PER_TEAM,
            }),
          ]);
          return { status, breaches: toSlaBreaches(urgent, now) };
        }),
      ),
    ]);
    return {
      viewerId: userId,
      generatedAt: now,
      teams: perTeam.flatMap((t) => (t.status ? [t.status] : [])),
      approvalsWaiting,
      slaBreaches: perTeam.flatMap((t) => (t.status ? t.breaches : [])),
    };
  };
}
