// Turns a Block Kit message into text a person can read in a terminal, plus a Block Kit Builder
// link that shows it exactly as Slack would.

type Block = {
  type?: string;
  text?: { text?: string };
  fields?: Array<{ text?: string }>;
  elements?: Array<Record<string, unknown>>;
};

function mrkdwnToText(s: string): string {
  return s
    .replace(/<!date\^\d+\^[^|]*\|([^>]*)>/g, "$1")
    .replace(/<([^|>]+)\|([^>]+)>/g, "$2")
    .replace(/<!subteam\^([A-Z0-9]+)>/g, "@group:$1")
    .replace(/<@([A-Z0-9]+)>/g, "@$1")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

export function blockKitBuilderUrl(blocks: unknown[]): string {
  return `https://app.slack.com/block-kit-builder/#${encodeURIComponent(JSON.stringify({ blocks }))}`;
}

export function printSlackMessage(title: string, message: { text?: string; blocks?: unknown[] }): string {
  const lines: string[] = [`┌─ ${title}`, `│ (notification text) ${message.text ?? ""}`, "│"];
  for (const raw of message.blocks ?? []) {
    const b = raw as Block;
    const push = (s: string) => {
      for (const l of mrkdwnToText(s).split("\n")) lines.push(`│ ${l}`);
    };
    if (b.type === "header") push(`■ ${b.text?.text ?? ""}`);
    else if (b.type === "divider") lines.push(`│ ${"─".repeat(40)}`);
    else if (b.type === "section") {
      if (b.text?.text) push(b.text.text);
      for (const f of b.fields ?? []) push(`  ${f.text ?? ""}`);
    } else if (b.type === "context") push((b.elements ?? []).map((e) => String(e.text ?? "")).join("  ·  "));
    else if (b.type === "actions") {
      push(
        (b.elements ?? [])
          .map((e) => `[${String((e.text as { text?: string } | undefined)?.text ?? e.action_id)}]`)
          .join("  "),
      );
    }
  }
  lines.push("│", `└─ Block Kit Builder: ${blockKitBuilderUrl(message.blocks ?? [])}`);
  return lines.join("\n");
}
