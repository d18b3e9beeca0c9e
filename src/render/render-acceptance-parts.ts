import type { ExpiredAcceptanceNotice } from "../services/risk/expired-acceptance-notice.js";
import { advisoryUrl } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

/** The pieces both acceptance notices (expiring, expired) say the same way, escaped for mrkdwn. */
export function renderAcceptanceParts(n: ExpiredAcceptanceNotice): {
  id: string;
  plainId: string;
  where: string;
  who: string;
  renewCommand: string;
} {
  const url = advisoryUrl(n.vulnerabilityId);
  const plainId = escapeMrkdwn(n.vulnerabilityId);
  const id = url ? `<${url}|${plainId}>` : plainId;
  const where = n.image ? escapeMrkdwn(n.image) : `every image of team ${escapeMrkdwn(n.teamId)}`;
  const who =
    n.acceptedBy.startsWith("U") || n.acceptedBy.startsWith("W")
      ? `<@${n.acceptedBy}>`
      : escapeMrkdwn(n.acceptedByName ?? n.acceptedBy);
  const renewCommand = `\`/patch accept ${plainId} ${escapeMrkdwn(n.image ?? n.teamId)} --until YYYY-MM-DD --reason "…"\``;
  return { id, plainId, where, who, renewCommand };
}
