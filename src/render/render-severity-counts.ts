import type { SeverityCounts } from "../core/digest/severity-counts.js";
import { SEVERITY_MARK } from "./severity.js";

// ⚪ marks low, negligible and unknown alike (SEVERITY_MARK), so they are shown as one count.
function buckets(c: SeverityCounts): Array<[string, string, number]> {
  return [
    [SEVERITY_MARK.critical, "critical", c.critical],
    [SEVERITY_MARK.high, "high", c.high],
    [SEVERITY_MARK.medium, "medium", c.medium],
    [SEVERITY_MARK.low, "low", c.low + c.negligible + c.unknown],
  ];
}

/** "🔴 2 🟠 8 🟡 14 ⚪ 31", leaving out severities with none; "none" when all are 0. */
export function renderSeverityCounts(c: SeverityCounts): string {
  const parts = buckets(c)
    .filter(([, , n]) => n > 0)
    .map(([mark, , n]) => `${mark} ${n}`);
  return parts.length > 0 ? parts.join(" ") : "none";
}

/** The same in words, for `text` fallbacks that screen readers speak: "2 critical, 8 high". */
export function renderSeverityWords(c: SeverityCounts): string {
  const parts = buckets(c)
    .filter(([, , n]) => n > 0)
    .map(([, word, n]) => `${n} ${word}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}

/** "▲3" for three more than last time, "▼2" for two fewer, "" for no change. */
export function renderDelta(n: number): string {
  if (n > 0) return `▲${n}`;
  if (n < 0) return `▼${-n}`;
  return "";
}
