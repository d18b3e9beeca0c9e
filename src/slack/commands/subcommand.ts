import type { HelpEntry } from "../../render/help.js";
import type { SlackMessage } from "../../render/slack-message.js";

/** Who typed `/patch …`, where, and the words after the subcommand. */
export type CommandContext = {
  userId: string;
  userName: string;
  channelId: string;
  teamId: string;
  triggerId: string;
  /** The subcommand's arguments, quotes honoured. */
  args: string[];
};

export type Subcommand = HelpEntry & {
  run(ctx: CommandContext): Promise<SlackMessage>;
};
