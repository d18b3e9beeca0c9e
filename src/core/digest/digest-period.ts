import { CronExpressionParser } from "cron-parser";

export type DigestPeriod = {
  /** The cron occurrence this digest is for: one digest per subscription per key. */
  key: string;
  occurredAt: Date;
  /** How people name it: "week 48" for weekly schedules, else the date. */
  label: string;
};

/**
 * The period a digest run belongs to: the latest occurrence of the subscription's cron at or
 * before `now`, in its time zone. A run delayed by an outage still lands in the right period,
 * and a retry or a second worker computes the same key.
 */
export function digestPeriod(cron: string, timezone: string, now: Date): DigestPeriod {
  const expr = CronExpressionParser.parse(cron, { currentDate: new Date(now.getTime() + 1), tz: timezone });
  const occurredAt = expr.prev().toDate();
  const weekly = /^\S+\s+\S+\s+\*\s+\*\s+\S+$/.test(cron.trim()) && !cron.trim().endsWith("*");
  return {
    key: occurredAt.toISOString(),
    occurredAt,
    label: weekly ? `week ${isoWeek(occurredAt, timezone)}` : isoDate(occurredAt, timezone),
  };
}

function zonedParts(d: Date, timeZone: string): { y: number; m: number; day: number } {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(d);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: get("year"), m: get("month"), day: get("day") };
}

function isoDate(d: Date, timeZone: string): string {
  const { y, m, day } = zonedParts(d, timeZone);
  return `${y}-${String(m).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** ISO 8601 week number of the calendar date `d` has in `timeZone`. */
export function isoWeek(d: Date, timeZone: string): number {
  const { y, m, day } = zonedParts(d, timeZone);
  const date = new Date(Date.UTC(y, m - 1, day));
  const dow = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - dow);
  const yearStart = new Date(Date.UTC(date.getUTCFullYear(), 0, 1));
  return Math.ceil(((date.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
}
