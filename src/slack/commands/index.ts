import { helpCommand } from "./help.js";
import type { Subcommand } from "./subcommand.js";

/**
 * Every `/patch` subcommand, one file each in this folder. A test checks that each file here is
 * registered and each registered command has help text. To add one: write `<name>.ts` exporting
 * `<name>Command(deps)`, add it below with only the dependencies it uses.
 */
export function buildSubcommands(): ReadonlyMap<string, Subcommand> {
  const all = new Map<string, Subcommand>();
  const add = (c: Subcommand) => all.set(c.name, c);
  add(helpCommand(() => [...all.values()]));
  return all;
}
