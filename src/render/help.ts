import type { KnownBlock } from "@slack/types";
import { clipLine } from "./render-clip.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

export type HelpEntry = { name: string; usage: string; summary: string; examples: readonly string[] };

export type HelpInput = {
  entries: readonly HelpEntry[];
  /** Set when the user typed a subcommand we do not know. */
  unknown?: { typed: string; suggestion: string | null };
};

/** The `/patch help` answer; also what an unknown subcommand gets, led by the correction. */
export function renderHelp(input: HelpInput): SlackMessage {
  const blocks: KnownBlock[] = [];
  let text = `patchpilot commands: ${input.entries.map((e) => `/patch ${e.name}`).join(", ")}`;
  if (input.unknown) {
    // What the user typed, shown in a code span: clipped whole characters, and no backtick to end it early.
    const typed = escapeMrkdwn(clipLine(input.unknown.typed.replaceAll("`", ""), 60));
    const lead = input.unknown.suggestion
      ? `I don't know \`${typed}\` — did you mean \`/patch ${input.unknown.suggestion}\`?`
      : `I don't know \`${typed}\`. Here is what I can do:`;
    text = `${lead.replaceAll("`", "")} ${text}`;
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `:grey_question: ${lead}` } });
  } else {
    blocks.push({ type: "header", text: { type: "plain_text", text: "patchpilot · /patch commands" } });
  }
  for (const e of input.entries) {
    const examples = e.examples.map((x) => `\`${x}\``).join("  ·  ");
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*\`${e.usage}\`*\n${e.summary}${examples ? `\n_e.g._ ${examples}` : ""}`,
      },
    });
  }
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: "Only you can see this answer." }],
  });
  return { text, blocks, response_type: "ephemeral" };
}
