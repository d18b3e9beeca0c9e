import { CronExpressionParser } from "cron-parser";
import { parseDuration } from "../duration.js";
import type { MaintenanceWindow } from "./maintenance-window.js";
import { isKnownTimeZone } from "./zoned-time.js";

const CRON_FIELDS = "minute hour day-of-month month day-of-week";

function cronProblem(cron: string): string | null {
  const fields = cron
    .trim()
    .split(/\s+/)
    .filter((f) => f !== "");
  if (fields.length !== 5) {
    return `expected 5 cron fields (${CRON_FIELDS}), got ${fields.length} in "${cron}"`;
  }
  // cron-parser reads H as a random minute or hour: a window must open at the same time everywhere.
  if (/(^|[^a-z])h(?![a-z])/i.test(cron))
    return `"H" (a random time) is not allowed in a window's cron: "${cron}"`;
  try {
    CronExpressionParser.parse(cron, { tz: "UTC", currentDate: new Date(0) });
    return null;
  } catch (e) {
    return `invalid cron expression "${cron}": ${e instanceof Error ? e.message : "unparseable"}`;
  }
}

/** Everything wrong with a window definition, each as a sentence; empty when it is usable. */
export function validateWindow(w: MaintenanceWindow): string[] {
  const problems: string[] = [];
  const cron = cronProblem(w.cron);
  if (cron !== null) problems.push(cron);
  const duration = parseDuration(w.duration);
  if (!duration.ok) problems.push(duration.message);
  if (!isKnownTimeZone(w.timezone)) {
    problems.push(`unknown time zone "${w.timezone}" (expected an IANA name such as Europe/Berlin)`);
  }
  return problems;
}
