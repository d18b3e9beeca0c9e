import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

export type SubscriptionLine = {
  id: string;
  cron: string;
  timezone: string;
  teams: string[];
  source: string;
};

/** The answer to /patch subscribe and unsubscribe: what happened, then what this channel gets. */
export function renderSubscriptions(input: {
  lead: string;
  subscriptions: SubscriptionLine[];
  highlight?: string;
}): SlackMessage {
  const lines = input.subscriptions.map((s) => {
    const where = s.source === "config" ? " _(from patchpilot.yaml: change it there)_" : "";
    const mark = s.id === input.highlight ? "👉 " : "• ";
    return `${mark}\`${escapeMrkdwn(s.cron)}\` ${escapeMrkdwn(s.timezone)} · ${s.teams.map(escapeMrkdwn).join(", ")}${where}`;
  });
  const list =
    lines.length > 0
      ? `*Digests posted in this channel*\n${lines.join("\n")}`
      : "_No digests are posted in this channel._";
  return {
    text: input.lead,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: escapeMrkdwn(input.lead) } },
      { type: "section", text: { type: "mrkdwn", text: list.slice(0, 2900) } },
    ],
    response_type: "ephemeral",
  };
}
