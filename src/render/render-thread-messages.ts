import type { KnownBlock, SectionBlock } from "@slack/types";
import { BLOCK_KIT_LIMITS } from "./block-kit-limits.js";
import { clipLine } from "./render-clip.js";
import { renderFallback } from "./render-fallback.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

const SECTION_BUDGET = BLOCK_KIT_LIMITS.section_text_length - 100;
// Room for the title block and JSON separators, so a packed message never lands on the limit.
const JSON_BUDGET = BLOCK_KIT_LIMITS.blocks_json_length - 1000;
const MAX_BLOCKS = BLOCK_KIT_LIMITS.blocks_count_message - 1;
const MAX_TITLE = 200;

/** Lines grouped into as few mrkdwn sections as fit; each line must itself fit in one section. */
export function linesToSections(lines: readonly string[]): SectionBlock[] {
  const sections: SectionBlock[] = [];
  let current = "";
  const flush = () => {
    if (current !== "") sections.push({ type: "section", text: { type: "mrkdwn", text: current } });
    current = "";
  };
  for (const line of lines) {
    if (current !== "" && current.length + 1 + line.length > SECTION_BUDGET) flush();
    current = current === "" ? line : `${current}\n${line}`;
  }
  flush();
  return sections;
}

/**
 * A long list as thread replies: blocks packed into as many messages as Slack's limits need, each
 * led by the list's title and "part i of n", so a reader landing on any one knows what it is.
 */
export function renderThreadMessages(title: string, blocks: readonly KnownBlock[]): SlackMessage[] {
  const parts: KnownBlock[][] = [];
  let current: KnownBlock[] = [];
  let length = 2;
  for (const block of blocks) {
    const size = JSON.stringify(block).length + 1;
    if (current.length > 0 && (current.length >= MAX_BLOCKS || length + size > JSON_BUDGET)) {
      parts.push(current);
      current = [];
      length = 2;
    }
    current.push(block);
    length += size;
  }
  if (current.length > 0) parts.push(current);
  const shortTitle = clipLine(title, MAX_TITLE);
  return parts.map((part, i) => {
    const label = parts.length > 1 ? `${shortTitle} (part ${i + 1} of ${parts.length})` : shortTitle;
    const head: KnownBlock = { type: "section", text: { type: "mrkdwn", text: `*${escapeMrkdwn(label)}*` } };
    return { text: renderFallback(label), blocks: [head, ...part] };
  });
}
