import type { KnownBlock } from "@slack/types";

/** What a renderer returns: the one-line `text` fallback plus the Block Kit blocks. */
export type SlackMessage = {
  text: string;
  blocks: KnownBlock[];
  response_type?: "ephemeral" | "in_channel";
};

/** Escapes user-controlled text for mrkdwn so it cannot inject links or mentions. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
