import type { SeverityCounts } from "../core/digest/severity-counts.js";
import type { TeamPosture } from "../core/digest/team-posture.js";
import { renderDelta } from "./render-severity-counts.js";
import { SEVERITY_MARK } from "./severity.js";

type Headline = Pick<TeamPosture, "open" | "breached" | "dueSoon" | "dueSoonDays">;

type Part = { count: string; change: string };

function part(n: number, word: string, change: number | undefined): Part {
  const d = change === undefined ? "" : renderDelta(change);
  return { count: `${n} ${word}`, change: d === "" ? "" : ` (${d})` };
}

function parts(p: Headline, delta: SeverityCounts | null): { critical: Part; high: Part; rest: string[] } {
  const rest = [p.breached > 0 ? `${p.breached} past SLA` : "none past SLA"];
  if (p.dueSoon > 0) rest.push(`${p.dueSoon} due within ${p.dueSoonDays} days`);
  return {
    critical: part(p.open.critical, "critical", delta?.critical),
    high: part(p.open.high, "high", delta?.high),
    rest,
  };
}

/**
 * "🔴 4 critical (▼2)  🟠 17 high (▲3)  ·  2 past SLA  ·  5 due within 7 days": the two severities
 * with SLAs people are held to, always shown (0 is news too), with the change since last time.
 */
export function renderPostureHeadline(p: Headline, delta: SeverityCounts | null = null): string {
  const { critical, high, rest } = parts(p, delta);
  const counts = `${SEVERITY_MARK.critical} *${critical.count}*${critical.change}  ${SEVERITY_MARK.high} *${high.count}*${high.change}`;
  const [breach, ...others] = rest;
  return [counts, p.breached > 0 ? `*${breach}*` : breach, ...others].join("  ·  ");
}

/** The same in words for `text` fallbacks: "4 critical (▼2), 17 high (▲3), 2 past SLA". */
export function renderPostureWords(p: Headline, delta: SeverityCounts | null = null): string {
  const { critical, high, rest } = parts(p, delta);
  return [`${critical.count}${critical.change}`, `${high.count}${high.change}`, ...rest].join(", ");
}
