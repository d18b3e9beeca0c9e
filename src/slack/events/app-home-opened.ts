import type { App } from "@slack/bolt";
import { z } from "zod";
import type { Logger } from "../../adapters/logger.js";
import type { HomeViewModel } from "../../core/digest/home-view-model.js";
import { renderHome } from "../../render/render-home.js";

const homeOpened = z.object({ user: z.string().min(1), tab: z.string() });

/**
 * Publishes the viewer's Home tab each time they open it. Bolt acks the event before this runs,
 * so a slow build never makes Slack retry; a retry that does arrive is dropped before this runs
 * (`firstDelivery` in createSlackApp). Failures are logged: the event is already acked and nobody waits on it.
 * `build` (createHomeView) also remembers the viewer, so changes to their teams refresh the tab.
 */
export function registerAppHomeOpened(
  bolt: App,
  deps: { build: (userId: string) => Promise<HomeViewModel>; logger: Logger },
): void {
  bolt.event("app_home_opened", async ({ event, client }) => {
    const parsed = homeOpened.safeParse(event);
    if (!parsed.success) {
      deps.logger.warn({ issues: parsed.error.issues.length }, "app_home_opened without user or tab");
      return;
    }
    const { user, tab } = parsed.data;
    if (tab !== "home") return;
    try {
      await client.views.publish({ user_id: user, view: renderHome(await deps.build(user)) });
    } catch (e) {
      deps.logger.error({ err: e, userId: user }, "publishing the App Home failed");
    }
  });
}
