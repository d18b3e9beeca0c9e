import { closestMatch } from "../core/closest-match.js";
import { renderHelp } from "../render/help.js";
import type { SlackMessage } from "../render/slack-message.js";
import type { CommandContext, Subcommand } from "./commands/subcommand.js";
import { tokenizeCommand } from "./tokenize-command.js";

/** `/patch <sub> args…` → the subcommand's answer; an unknown one gets help led by a correction. */
export async function routeCommand(
  text: string,
  ctx: Omit<CommandContext, "args">,
  subcommands: ReadonlyMap<string, Subcommand>,
): Promise<SlackMessage> {
  const [first, ...args] = tokenizeCommand(text);
  const name = (first ?? "help").toLowerCase();
  const sub = subcommands.get(name);
  if (sub) return sub.run({ ...ctx, args });
  return renderHelp({
    entries: [...subcommands.values()],
    unknown: { typed: first ?? "", suggestion: closestMatch(name, [...subcommands.keys()]) },
  });
}
