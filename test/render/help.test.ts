import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { type HelpEntry, renderHelp } from "../../src/render/help.js";
import { blockLines } from "../core/digest/message-text.js";

/**
 * Help lists the registered subcommands, not the config: its size does not grow with teams or
 * images. What a user types is its only unbounded input.
 */
const entries: HelpEntry[] = Array.from({ length: 12 }, (_, i) => ({
  name: `command${i}`,
  usage: `/patch command${i} IMAGE|TEAM [--share]`,
  summary: "Does one thing for an image or a team, and says what it did in a sentence or two.",
  examples: [`/patch command${i} payments-api`, `/patch command${i} payments --share`],
}));

describe("renderHelp", () => {
  it("lists every command with its usage and examples", () => {
    const m = renderHelp({ entries });
    expect(m.text).toBe(`patchpilot commands: ${entries.map((e) => `/patch ${e.name}`).join(", ")}`);
    expect(blockLines(m.blocks)[1]).toBe(
      "*`/patch command0 IMAGE|TEAM [--share]`*\nDoes one thing for an image or a team, and says what it did in a sentence or two.\n_e.g._ `/patch command0 payments-api`  ·  `/patch command0 payments --share`",
    );
    expect(m.response_type).toBe("ephemeral");
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
  });

  it.each([
    ["with a suggestion", "command1"],
    ["without one", null],
  ])(
    "answers a 5,000-character unknown subcommand %s within limits, led by the correction",
    (_label, suggestion) => {
      const typed = `\`<!channel>${"&".repeat(2500)}${"😀".repeat(1250)}`;
      const m = renderHelp({ entries, unknown: { typed, suggestion } });
      expect(checkBlockKitLimits(m, "message")).toEqual([]);
      const lines = blockLines(m.blocks);
      expect(lines[0]).toMatch(/^:grey_question: I don't know `[^`]+…`/);
      expect(lines[0]).toContain(suggestion ? "did you mean `/patch command1`?" : "Here is what I can do:");
      expect(lines.join("\n")).not.toContain("<!channel>");
      // A cut never splits an emoji in half.
      expect(lines[0]).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      expect(lines).toHaveLength(entries.length + 2);
      expect(m.text).toContain("patchpilot commands: /patch command0,");
      expect(m.text).not.toContain("<!channel>");
    },
  );
});
