import type { ExpiredAcceptanceNotice } from "../services/risk/expired-acceptance-notice.js";
import { clipLine } from "./render-clip.js";
import { renderVulnerabilityLink } from "./render-links.js";
import { renderPerson } from "./render-mentions.js";
import { escapeMrkdwn } from "./slack-message.js";

// Long enough for any real id or repository; the cut is marked with "…".
const MAX_ID = 60;
const MAX_TARGET = 150;
const MAX_REASON = 300;

/** The pieces both acceptance notices (expiring, expired) say the same way, clipped and escaped for mrkdwn. */
export function renderAcceptanceParts(n: ExpiredAcceptanceNotice): {
  id: string;
  plainId: string;
  where: string;
  who: string;
  reason: string;
  renewCommand: string;
} {
  const plainId = escapeMrkdwn(clipLine(n.vulnerabilityId, MAX_ID));
  const target = escapeMrkdwn(clipLine(n.image ?? n.teamId, MAX_TARGET));
  const where = n.image ? target : `every image of team ${target}`;
  const renewCommand = `\`/patch accept ${plainId} ${target} --until YYYY-MM-DD --reason "…"\``;
  return {
    id: renderVulnerabilityLink(n.vulnerabilityId),
    plainId,
    where,
    who: renderPerson(n.acceptedBy, n.acceptedByName),
    reason: `“${escapeMrkdwn(clipLine(n.reason, MAX_REASON))}”`,
    renewCommand,
  };
}
