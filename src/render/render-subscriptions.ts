import type { KnownBlock } from "@slack/types";
import { BLOCK_KIT_LIMITS } from "./block-kit-limits.js";
import { clipLine } from "./render-clip.js";
import { renderFitted } from "./render-fitted.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

export type SubscriptionLine = {
  id: string;
  cron: string;
  timezone: string;
  teams: string[];
  source: string;
};

type SubscriptionsInput = {
  lead: string;
  subscriptions: SubscriptionLine[];
  highlight?: string;
};

/** Subscriptions listed before "…and N more"; the list is fitted below this when text runs long. */
const MAX_LISTED = 25;
const TEAMS_SHOWN = 10;
/** Characters of team names per subscription, so a digest for 200 teams stays one readable line. */
const TEAMS_BUDGET = 800;
const MAX_LEAD = 500;
const MAX_CRON = 60;
const MAX_TEAM = 63;

/**
 * The answer to /patch subscribe and unsubscribe: what happened, then what this channel gets,
 * the subscription just made first.
 */
export function renderSubscriptions(input: SubscriptionsInput): SlackMessage {
  const ordered = highlightFirst(input.subscriptions, input.highlight);
  const max = Math.min(ordered.length, MAX_LISTED);
  return renderFitted((shown) => subscriptionsMessage(input, ordered, shown), "message", max).rendered;
}

function subscriptionsMessage(
  input: SubscriptionsInput,
  ordered: SubscriptionLine[],
  shown: number,
): SlackMessage {
  // The fallback is mrkdwn too, and one line.
  const lead = escapeMrkdwn(clipLine(input.lead, MAX_LEAD));
  const blocks: KnownBlock[] = [{ type: "section", text: { type: "mrkdwn", text: lead } }];
  if (ordered.length === 0) {
    blocks.push(section("_No digests are posted in this channel._"));
  } else {
    const lines = [
      "*Digests posted in this channel*",
      ...ordered.slice(0, shown).map((s) => subscriptionLine(s, input.highlight)),
    ];
    const rest = ordered.slice(shown);
    if (rest.length > 0) lines.push(moreLine(rest));
    blocks.push(...packLines(lines).map(section));
  }
  return { text: lead, blocks, response_type: "ephemeral" };
}

function highlightFirst(
  subscriptions: SubscriptionLine[],
  highlight: string | undefined,
): SubscriptionLine[] {
  const first = subscriptions.filter((s) => s.id === highlight);
  return [...first, ...subscriptions.filter((s) => s.id !== highlight)];
}

function subscriptionLine(s: SubscriptionLine, highlight: string | undefined): string {
  const where = s.source === "config" ? " _(from patchpilot.yaml: change it there)_" : "";
  const mark = s.id === highlight ? "👉 " : "• ";
  const when = `\`${escapeMrkdwn(clipLine(s.cron, MAX_CRON))}\` ${escapeMrkdwn(clipLine(s.timezone, MAX_CRON))}`;
  return `${mark}${when} · ${teamList(s.teams)}${where}`;
}

/** "payments, search", or past ten names (or the budget) "200 teams: a, b, … and 190 more". */
function teamList(teams: string[]): string {
  const names: string[] = [];
  let used = 0;
  for (const team of teams.slice(0, TEAMS_SHOWN)) {
    const name = escapeMrkdwn(clipLine(team, MAX_TEAM));
    if (names.length > 0 && used + name.length > TEAMS_BUDGET) break;
    names.push(name);
    used += name.length + 2;
  }
  const rest = teams.length - names.length;
  return rest > 0 ? `${teams.length} teams: ${names.join(", ")} and ${rest} more` : names.join(", ");
}

function moreLine(rest: SubscriptionLine[]): string {
  const fromConfig = rest.filter((s) => s.source === "config").length;
  const where = fromConfig > 0 ? ` (${fromConfig} from patchpilot.yaml, listed there)` : "";
  return `…and ${rest.length} more subscription${rest.length === 1 ? "" : "s"}${where}`;
}

/** Lines into as few sections as Slack's section text limit allows. */
function packLines(lines: string[]): string[] {
  const texts: string[] = [];
  let current = "";
  for (const line of lines) {
    if (current && current.length + 1 + line.length > BLOCK_KIT_LIMITS.section_text_length) {
      texts.push(current);
      current = line;
    } else {
      current = current ? `${current}\n${line}` : line;
    }
  }
  if (current) texts.push(current);
  return texts;
}

function section(text: string): KnownBlock {
  return { type: "section", text: { type: "mrkdwn", text } };
}
