import type { Severity } from "../scan/normalized-report.js";
import { DAY_MS } from "./sla-policy.js";

export type AcceptanceExpiryCheck = { ok: true } | { ok: false; message: string };

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Whether a risk acceptance may end at `until`: in the future, and no later than the policy's
 * maximum for the finding's severity (a severity without a maximum may be accepted for any time).
 */
export function acceptanceExpiryCheck(
  severity: Severity,
  until: Date,
  now: Date,
  maxDays: Partial<Record<Severity, number>>,
): AcceptanceExpiryCheck {
  if (Number.isNaN(until.getTime()))
    return { ok: false, message: "the end date of an acceptance is not a valid date" };
  if (until.getTime() <= now.getTime()) {
    return { ok: false, message: `an acceptance must end in the future: pick a date after ${isoDay(now)}` };
  }
  const max = maxDays[severity];
  if (max === undefined) return { ok: true };
  const latest = new Date(now.getTime() + max * DAY_MS);
  if (until.getTime() > latest.getTime()) {
    return {
      ok: false,
      message: `an acceptance of a ${severity} finding may last at most ${max} days (until ${isoDay(latest)} at the latest)`,
    };
  }
  return { ok: true };
}
