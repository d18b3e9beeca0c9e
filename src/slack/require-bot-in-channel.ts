import { userError } from "../core/errors.js";

/**
 * Refuses a command that would have the bot post in a channel it is not in (Slack would answer
 * every post with not_in_channel, long after the user was told "posting now"), saying how to
 * invite it. An unknown answer lets the command go ahead.
 */
export async function requireBotIn(
  canPostIn: (channel: string) => Promise<"yes" | "no" | "unknown">,
  channel: string,
  what: string,
  again: string,
): Promise<void> {
  if ((await canPostIn(channel)) !== "no") return;
  throw userError(
    "not_in_channel",
    `I'm not in this channel, so I can't post ${what} here. Invite me with \`/invite @patchpilot\`, then run \`${again}\` again.`,
  );
}
