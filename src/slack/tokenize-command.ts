/**
 * Splits `/patch` text into words, honouring "double" or 'single' quotes. Slack clients often
 * turn quotes into typographic ones, so those count as quotes too.
 */
export function tokenizeCommand(text: string): string[] {
  const normalized = text.replace(/[\u201C\u201D\u201E]/g, '"').replace(/[\u2018\u2019]/g, "'");
  const words: string[] = [];
  let cur = "";
  let quote: string | null = null;
  let inWord = false;
  for (const ch of normalized) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
