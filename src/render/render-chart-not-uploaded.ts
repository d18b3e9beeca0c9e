import type { SlackMessage } from "./slack-message.js";

/**
 * Posted in a digest's thread in place of its trend chart when Slack refuses the upload for good,
 * so the digest's "Trend chart in the thread" still leads somewhere and says what to change.
 */
export function renderChartNotUploaded(slackError: string): SlackMessage {
  const fix =
    slackError === "missing_scope"
      ? "An admin can add the `files:write` scope and reinstall the app, or turn charts off with `digestCharts: false` in the config."
      : "Turn charts off with `digestCharts: false` in the config if uploads are not allowed here.";
  const text = `📈 The trend chart could not be uploaded: Slack answered \`${slackError}\`. ${fix}`;
  return { text, blocks: [{ type: "context", elements: [{ type: "mrkdwn", text }] }] };
}
