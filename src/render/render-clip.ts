/**
 * User text for one line of a list: whitespace runs (newlines included) become one space, and text
 * longer than `max` UTF-16 units is cut to `max` ending in "…", never inside a surrogate pair.
 * Clip before `escapeMrkdwn`, so an escape sequence is never cut in half.
 */
export function clipLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (line.length <= max) return line;
  let end = Math.max(0, max - 1);
  const last = line.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${line.slice(0, end)}…`;
}
