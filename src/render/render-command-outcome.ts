import { BLOCK_KIT_LIMITS } from "./block-kit-limits.js";
import { clipLine } from "./render-clip.js";
import type { SlackMessage } from "./slack-message.js";

const MAX_TEXT = BLOCK_KIT_LIMITS.section_text_length - 100;
const MAX_FALLBACK = 1000;
const LEADING_EMOJI = /^(:[a-z0-9_+'-]+:|\p{Extended_Pictographic})/u;

/**
 * The message's words without mrkdwn: links and channel references become their labels, emoji
 * codes, bold, italics and code marks go. Mentions stay, so a notification still names people.
 */
export function plainFallback(message: string): string {
  const plain = message
    .replace(/<#[A-Z0-9]+\|([^>]*)>/g, "#$1")
    .replace(/<#([A-Z0-9]+)>/g, "#$1")
    .replace(/<(https?:[^|>]+)\|([^>]*)>/g, "$2")
    .replace(/<(https?:[^>]+)>/g, "$1")
    .replace(/:[a-z0-9_+'-]+:\s*/g, "")
    .replace(/[*`]/g, "")
    .replace(/(^|\s)_([^_]+)_(?=\s|[.,;:!?]|$)/g, "$1$2");
  return clipLine(plain, MAX_FALLBACK);
}

/**
 * What a command that changed something (or refused to) answers: the outcome's message as is when
 * it worked, led by :no_entry_sign: when it refused, so a refusal never reads as a success.
 * Ephemeral unless `inChannel`, for news everyone in the channel should see.
 */
export function renderCommandOutcome(
  outcome: { ok: boolean; message: string },
  opts: { inChannel?: boolean } = {},
): SlackMessage {
  const message =
    outcome.ok || LEADING_EMOJI.test(outcome.message)
      ? outcome.message
      : `:no_entry_sign: ${outcome.message}`;
  const shown = message.length > MAX_TEXT ? `${message.slice(0, MAX_TEXT - 1)}…` : message;
  return {
    text: plainFallback(outcome.message),
    blocks: [{ type: "section", text: { type: "mrkdwn", text: shown } }],
    response_type: opts.inChannel ? "in_channel" : "ephemeral",
  };
}
