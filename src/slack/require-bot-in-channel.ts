import { userError } from "../core/errors.js";

/**
 * Refuses a command that would have the bot post in a channel it is not in (Slack would answer
 * every post with not_in_channel, long after the user was told "posting now"), saying how to
 * invite it. An unknown answer lets the command go ahead.
 */
export async function requireBotIn(
  /** The answer of `canPostIn` for the channel, asked as the command began (Slack wants an ack in 3 s). */
  access: Promise<"yes" | "no" | "unknown">,
  what: string,
  again: string,
): Promise<void> {
  if ((await access) !== "no") return;
  throw userError(
    "not_in_channel",
    `I'm not in this channel, so I can't post ${what} here. Invite me with \`/invite @patchpilot\`, then run \`${again}\` again.`,
  );
}

/** The command as typed, to run again: `/patch subscribe "0 9 * * 1" Europe/Berlin payments`. */
export function commandAgain(subcommand: string, args: readonly string[]): string {
  return ["/patch", subcommand, ...args.map((a) => (/\s/.test(a) ? `"${a}"` : a))].join(" ");
}
