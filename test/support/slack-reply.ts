/** What a slash command answered, as far as tests read it. */
export type SlackReply = {
  text?: string;
  response_type?: string;
  blocks?: Array<{ type: string; text?: { text?: string }; elements?: Array<{ text?: unknown }> }>;
};

/** Everything a reader sees in a reply: the fallback, section texts and context/button texts. */
export function replyText(r: SlackReply): string {
  return [
    r.text ?? "",
    ...(r.blocks ?? []).flatMap((b) => [
      b.text?.text ?? "",
      ...(b.elements ?? []).map((e) => JSON.stringify(e.text ?? "")),
    ]),
  ].join("\n");
}
