import { clipLine } from "./render-clip.js";
import { renderVulnerabilityLink } from "./render-links.js";
import { renderPerson } from "./render-mentions.js";
import { slackDate } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

/** The ephemeral confirmation after an approver accepted a risk in the `/patch accept` dialog. */
export function renderRiskAccepted(a: {
  vulnerabilityId: string;
  targetLabel: string;
  until: Date;
  actorId: string;
}): SlackMessage {
  const day = a.until.toISOString().slice(0, 10);
  const target = escapeMrkdwn(clipLine(a.targetLabel, 200));
  const tail = "It no longer counts as open; it comes back when the acceptance expires.";
  // The fallback is mrkdwn too: what the user typed must not become a mention or a link there.
  const id = escapeMrkdwn(clipLine(a.vulnerabilityId, 60));
  return {
    text: `✅ ${id} in ${target} accepted until ${day}. ${tail}`,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `✅ ${renderVulnerabilityLink(a.vulnerabilityId)} in ${target} accepted until ${slackDate(
            a.until,
          )} (by ${renderPerson(a.actorId)}). ${tail}`,
        },
      },
    ],
  };
}
