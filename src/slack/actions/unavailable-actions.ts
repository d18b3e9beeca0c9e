import type { App } from "@slack/bolt";

/**
 * Buttons the messages already carry whose features are not built yet (rollouts, history). A
 * click is acknowledged and answered honestly, only to the clicker, instead of Slack's
 * "this app did not respond" error.
 */
const ANSWERS: Record<string, string> = {
  digest_patch_now:
    "“Patch now” starts a staged rollout, which this patchpilot does not run yet. Meanwhile: rebuild the image with the fixed packages and let CI upload its scan; the SLA clock stops when the finding is gone.",
  status_patch_now:
    "“Patch now” starts a staged rollout, which this patchpilot does not run yet. Meanwhile: rebuild the image with the fixed packages and let CI upload its scan.",
  home_patch_now: "“Patch now” starts a staged rollout, which this patchpilot does not run yet.",
  digest_review_rollout: "Rollout approvals are not enabled on this patchpilot yet.",
  home_review_rollout: "Rollout approvals are not enabled on this patchpilot yet.",
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
