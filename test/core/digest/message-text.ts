import type { KnownBlock } from "@slack/types";

/**
 * What a reader sees, block by block, as text: header and section text, context elements, and
 * buttons as "[Label]". Lets tests assert on lines without walking Block Kit by hand.
 */
export function blockLines(blocks: readonly KnownBlock[]): string[] {
  return blocks.map((b) => {
    switch (b.type) {
      case "header":
        return b.text.text;
      case "section": {
        const button = b.accessory?.type === "button" ? `   [${b.accessory.text.text}]` : "";
        return `${b.text?.text ?? ""}${button}`;
      }
      case "context":
        return b.elements.map((e) => ("text" in e ? e.text : "")).join(" ");
      case "actions":
        return b.elements.map((e) => (e.type === "button" ? `[${e.text.text}]` : "")).join("   ");
      case "divider":
        return "─────";
      default:
        return "";
    }
  });
}

export const messageText = (blocks: readonly KnownBlock[]): string => blockLines(blocks).join("\n");
