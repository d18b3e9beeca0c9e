import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import type { Logger } from "../adapters/logger.js";
import { classifySlackError, NotYet } from "../adapters/slack-errors.js";
import type { HomeViewModel } from "../core/digest/home-view-model.js";
import type { Db } from "../db/client.js";
import { recentHomeViewers } from "../db/home-viewer-repository.js";
import { renderHome } from "../render/render-home.js";

export const homeRefreshPayload = z.object({ teamId: z.string().min(1) });

/** Only someone who opened the Home tab this recently has it refreshed. */
export const HOME_VIEWER_TTL_MS = 30 * 24 * 60 * 60_000;
/** At most this many Home tabs are published per refresh; the rest see theirs when they open it. */
export const HOME_REFRESH_MAX_VIEWERS = 200;
const PAGE = 500;

export type RefreshHomesDeps = {
  db: Db;
  slack: Pick<WebClient, "views">;
  /** The teams a user belongs to (createTeamsOfUser); the channel is always "" here. */
  teamsOfUser: (userId: string, channelId: string) => Promise<string[]>;
  /** Builds a viewer's Home without counting as them opening it (createHomeViewModel). */
  buildHome: (userId: string) => Promise<HomeViewModel>;
  now: () => Date;
  logger?: Logger;
  maxViewers?: number;
};

/**
 * Re-publishes the App Home of a team's recent viewers after its posture or its rollouts changed
 * (the `home.refresh` outbox effect). Only users who opened the tab in the last 30 days and belong
 * to the team get one; a failure for one user is logged and the others still get theirs. Slack
 * saying "slow down" stops the run: the intent comes back after Retry-After (publishing is idempotent).
 */
export async function refreshHomes(
  deps: RefreshHomesDeps,
  payload: z.infer<typeof homeRefreshPayload>,
): Promise<{ published: number; failed: number }> {
  const max = deps.maxViewers ?? HOME_REFRESH_MAX_VIEWERS;
  const since = new Date(deps.now().getTime() - HOME_VIEWER_TTL_MS);
  const viewers: string[] = [];
  for (let offset = 0; viewers.length < max; offset += PAGE) {
    const page = await recentHomeViewers(deps.db, since, { limit: PAGE, offset });
    for (const userId of page) {
      if (viewers.length >= max) break;
      if ((await deps.teamsOfUser(userId, "")).includes(payload.teamId)) viewers.push(userId);
    }
    if (page.length < PAGE) break;
  }
  let published = 0;
  let failed = 0;
  for (const userId of viewers) {
    try {
      await deps.slack.views.publish({ user_id: userId, view: renderHome(await deps.buildHome(userId)) });
      published++;
    } catch (e) {
      const failure = classifySlackError(e);
      if (failure.kind === "rate_limited") {
        throw new NotYet("Slack rate-limited views.publish", failure.retryAfterMs);
      }
      failed++;
      deps.logger?.warn(
        { userId, teamId: payload.teamId, reason: failure.reason },
        "refreshing an App Home failed",
      );
    }
  }
  return { published, failed };
}
