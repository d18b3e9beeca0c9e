import { clipLine } from "./render-clip.js";
import { escapeMrkdwn } from "./slack-message.js";

const MAX_FALLBACK = 1000;

/**
 * A message's `text` fallback from plain words: one line, bounded, and escaped, because Slack
 * formats `text` as mrkdwn too (a team or image name must not become a mention in a notification).
 */
export function renderFallback(line: string): string {
  return escapeMrkdwn(clipLine(line, MAX_FALLBACK));
}
