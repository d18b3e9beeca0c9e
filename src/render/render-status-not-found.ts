import { clipLine } from "./render-clip.js";
import { renderFallback } from "./render-fallback.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

const SHOWN = 5;

const code = (s: string) => `\`${escapeMrkdwn(clipLine(s, 60)).replaceAll("`", "'")}\``;

function orList(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/** `/patch status <name>` for a name that is no image or team: the closest names to try instead. */
export function renderStatusNotFound(typed: string, suggestions: readonly string[]): SlackMessage {
  const names = suggestions.slice(0, SHOWN);
  const lead = `I don't know an image or team called ${code(typed)}.`;
  const next =
    names.length > 0
      ? `Did you mean ${orList(names.map((n) => code(`/patch status ${n}`)))}?`
      : "`/patch status` with no name lists your teams.";
  const words =
    names.length > 0
      ? `Did you mean ${orList(names.map((n) => `/patch status ${n}`))}?`
      : "/patch status with no name lists your teams.";
  return {
    text: renderFallback(`I don't know an image or team called "${clipLine(typed, 60)}". ${words}`),
    blocks: [{ type: "section", text: { type: "mrkdwn", text: `:grey_question: ${lead} ${next}` } }],
    response_type: "ephemeral",
  };
}
