import type { ExpiredAcceptanceNotice } from "../services/risk/expired-acceptance-notice.js";
import { advisoryUrl, slackDate } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

/** Tells the owning team an accepted risk counts again: its SLA clock and counts are back. */
export function renderAcceptanceExpired(n: ExpiredAcceptanceNotice): SlackMessage {
  const where = n.image ? escapeMrkdwn(n.image) : `every image of team ${escapeMrkdwn(n.teamId)}`;
  const url = advisoryUrl(n.vulnerabilityId);
  const id = url ? `<${url}|${n.vulnerabilityId}>` : escapeMrkdwn(n.vulnerabilityId);
  const who =
    n.acceptedBy.startsWith("U") || n.acceptedBy.startsWith("W")
      ? `<@${n.acceptedBy}>`
      : escapeMrkdwn(n.acceptedByName ?? n.acceptedBy);
  // The fallback is mrkdwn too: user-supplied ids must not become mentions or links there either.
  const text = `⏰ Risk acceptance expired: ${escapeMrkdwn(n.vulnerabilityId)} in ${n.image ? escapeMrkdwn(n.image) : `every image of team ${escapeMrkdwn(n.teamId)}`} counts as open again`;
  return {
    text,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `⏰ *Risk acceptance expired: ${id} in ${where}*\nIt counts as open again, with its original SLA clock. Fix it, or accept it again with a new reason: \`/patch accept ${n.vulnerabilityId} ${n.image ?? n.teamId} --until YYYY-MM-DD --reason "…"\``,
        },
      },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `Accepted by ${who} until ${slackDate(n.expiredAt)}: “${escapeMrkdwn(n.reason.slice(0, 300))}”`,
          },
        ],
      },
    ],
  };
}
