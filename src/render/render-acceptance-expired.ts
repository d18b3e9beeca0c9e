import type { ExpiredAcceptanceNotice } from "../services/risk/expired-acceptance-notice.js";
import { renderAcceptanceParts } from "./render-acceptance-parts.js";
import { slackDate } from "./severity.js";
import type { SlackMessage } from "./slack-message.js";

/** Tells the owning team an accepted risk counts again: its SLA clock and counts are back. */
export function renderAcceptanceExpired(n: ExpiredAcceptanceNotice): SlackMessage {
  const { id, plainId, where, who, reason, renewCommand } = renderAcceptanceParts(n);
  // The fallback is mrkdwn too: user-supplied ids must not become mentions or links there either.
  const text = `⏰ Risk acceptance expired: ${plainId} in ${where} counts as open again`;
  return {
    text,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `⏰ *Risk acceptance expired: ${id} in ${where}*\nIt counts as open again, with its original SLA clock. Fix it, or accept it again with a new reason: ${renewCommand}`,
        },
      },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `Accepted by ${who} until ${slackDate(n.expiredAt)}: ${reason}`,
          },
        ],
      },
    ],
  };
}
