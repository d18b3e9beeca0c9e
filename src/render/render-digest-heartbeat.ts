import { ACCEPTANCE_EXPIRY_HORIZON_DAYS } from "../core/digest/expiring-acceptances.js";
import type { TeamDigest } from "../core/digest/team-digest.js";
import { renderDigestFooter } from "./render-digest-footer.js";
import { renderFallback } from "./render-fallback.js";
import { slackDate } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

type DateText = (d: Date) => string;

function clauses(d: TeamDigest, date: DateText): string[] {
  const due = d.dueSoon > 0 ? ` (${d.dueSoon} due within ${d.dueSoonDays} days)` : "";
  const out = [`${d.open.critical} critical, ${d.open.high} high within SLA${due}`];
  const expiring = d.expiringAcceptances.length;
  const first = d.expiringAcceptances[0]?.until;
  if (expiring === 1 && first) out.push(`1 accepted risk expires ${date(first)}`);
  else if (expiring > 1 && first) {
    out.push(
      `${expiring} accepted risks expire within ${ACCEPTANCE_EXPIRY_HORIZON_DAYS} days, the first ${date(first)}`,
    );
  }
  if (d.shipped.count > 0) out.push(`${d.shipped.count} patch${d.shipped.count === 1 ? "" : "es"} shipped`);
  const unowned = d.unownedImages.length;
  if (unowned > 0) out.push(`${unowned} image${unowned === 1 ? " has" : "s have"} no owning team`);
  return out;
}

/**
 * A quiet period's one line ("… — nothing new. 0 critical, 3 high within SLA; …"). It is still
 * posted: silence would look the same as a digest that failed to go out.
 */
export function renderDigestHeartbeat(d: TeamDigest, title: string): SlackMessage {
  const line = (date: DateText, t: string) => `${t} — nothing new. ${clauses(d, date).join("; ")}.`;
  const text = renderFallback(line((x) => `on ${x.toISOString().slice(0, 10)}`, title));
  const blocks = line((x) => slackDate(x), `*${escapeMrkdwn(title)}*`);
  return {
    text,
    blocks: [{ type: "section", text: { type: "mrkdwn", text: blocks } }, renderDigestFooter(d)],
  };
}
