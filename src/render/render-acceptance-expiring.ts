import type { ExpiredAcceptanceNotice } from "../services/risk/expired-acceptance-notice.js";
import { renderAcceptanceParts } from "./render-acceptance-parts.js";
import { slackDate } from "./severity.js";
import type { SlackMessage } from "./slack-message.js";

/**
 * Warns the owning team, days ahead, that an accepted risk is about to count again, so renewing
 * or fixing it is a decision rather than a surprise. `n.expiredAt` is the coming expiry.
 */
export function renderAcceptanceExpiring(n: ExpiredAcceptanceNotice): SlackMessage {
  const { id, plainId, where, who, reason, renewCommand } = renderAcceptanceParts(n);
  const day = n.expiredAt.toISOString().slice(0, 10);
  const text = `⏳ Risk acceptance expires ${day}: ${plainId} in ${where} will count as open again`;
  return {
    text,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `⏳ *Risk acceptance expires ${slackDate(n.expiredAt, "{date_short_pretty} {time}")}: ${id} in ${where}*\nThen it counts as open again, with its original SLA clock. Fix it before then, or accept it again with a new reason once it has expired: ${renewCommand}`,
        },
      },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `Accepted by ${who}: ${reason}` }],
      },
    ],
  };
}
