import type { HelpEntry } from "../../render/help.js";
import { renderHelp } from "../../render/help.js";
import type { Subcommand } from "./subcommand.js";

export function helpCommand(entries: () => readonly HelpEntry[]): Subcommand {
  return {
    name: "help",
    usage: "/patch help",
    summary: "List every command with an example.",
    examples: ["/patch help"],
    run: async () => renderHelp({ entries: entries() }),
  };
}
