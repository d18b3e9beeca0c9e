import type { ExpiredAcceptanceNotice } from "../services/risk/expired-acceptance-notice.js";
import { renderAcceptanceExpired } from "./render-acceptance-expired.js";
import { renderAcceptanceExpiring } from "./render-acceptance-expiring.js";
import { renderAcceptanceParts } from "./render-acceptance-parts.js";
import { clipLine } from "./render-clip.js";
import { renderFitted } from "./render-fitted.js";
import { slackDate } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

/** Acceptances listed in the channel message; the rest are counted, with where to see them. */
const SHOWN = 15;
const MAX_TEAM = 60;

/**
 * One team's acceptances that a run found expiring soon or expired, in one message: one
 * acceptance gets its own notice, several a list (soonest first) with one way to renew each.
 */
export function renderAcceptanceNotices(
  kind: "expiring" | "expired",
  notices: readonly ExpiredAcceptanceNotice[],
): SlackMessage {
  const [only] = notices;
  if (notices.length === 1 && only)
    return kind === "expiring" ? renderAcceptanceExpiring(only) : renderAcceptanceExpired(only);
  return renderFitted((shown) => listMessage(kind, notices, shown), "message", SHOWN).rendered;
}

function listMessage(
  kind: "expiring" | "expired",
  notices: readonly ExpiredAcceptanceNotice[],
  shown: number,
): SlackMessage {
  const n = notices.length;
  const team = escapeMrkdwn(clipLine(notices[0]?.teamId ?? "", MAX_TEAM));
  const last = notices.at(-1)?.expiredAt;
  const headline =
    kind === "expiring"
      ? `⏳ ${n} risk acceptances of team ${team} expire${last ? ` by ${slackDate(last)}` : ""}`
      : `⏰ ${n} risk acceptances of team ${team} expired`;
  const plainHeadline =
    kind === "expiring"
      ? `⏳ ${n} risk acceptances of team ${team} expire${last ? ` by ${last.toISOString().slice(0, 10)}` : ""}`
      : headline;
  const then =
    kind === "expiring"
      ? "Then each counts as open again, with its original SLA clock. Fix them before then, or accept one again with a new reason once it has expired."
      : "Each counts as open again, with its original SLA clock. Fix them, or accept one again with a new reason.";
  const lines = notices.slice(0, shown).map((notice) => {
    const { id, where, who, reason } = renderAcceptanceParts(notice);
    return `• ${id} in ${where} · ${kind === "expiring" ? "expires" : "expired"} ${slackDate(notice.expiredAt)} · accepted by ${who}: ${reason}`;
  });
  if (n > shown) lines.push(`…and ${n - shown} more: \`/patch status ${team}\``);
  return {
    text: plainHeadline,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${headline}*\n${then}` } },
      ...(lines.length > 0
        ? [{ type: "section" as const, text: { type: "mrkdwn" as const, text: lines.join("\n") } }]
        : []),
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: '`/patch accept <CVE> <image|team> --until YYYY-MM-DD --reason "…"` accepts one again.',
          },
        ],
      },
    ],
  };
}
