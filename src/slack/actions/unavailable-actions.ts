import type { App } from "@slack/bolt";

/**
 * Buttons the messages already carry whose features are not built yet (rollouts, history). A
 * click is acknowledged and answered honestly, only to the clicker, instead of Slack's
 * "this app did not respond" error.
 */
const ANSWERS: Record<string, string> = {
  status_history:
    "Scan history in Slack is not available yet; `/patch status <image>` shows the latest scan.",
};

export const UNAVAILABLE_ACTION_IDS = Object.keys(ANSWERS);

export function registerUnavailableActions(bolt: App): void {
  for (const [actionId, text] of Object.entries(ANSWERS)) {
    bolt.action(actionId, async ({ ack, respond }) => {
      await ack();
      await respond({ response_type: "ephemeral", replace_original: false, text: `:construction: ${text}` });
    });
  }
}
