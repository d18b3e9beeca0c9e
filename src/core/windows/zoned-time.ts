/**
 * Conversions between instants and wall-clock times in an IANA zone, using only `Intl`. A wall-clock
 * time is carried as "floating" epoch ms: the instant at which a UTC clock would show it.
 */

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `Intl` knows the zone (IANA names such as Europe/Berlin, and UTC). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time shown in `timeZone` at `instantMs`, as floating ms. */
export function wallClockAt(instantMs: number, timeZone: string): number {
  const wholeSeconds = Math.floor(instantMs / 1000) * 1000;
  const part: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(wholeSeconds))) {
    if (p.type !== "literal") part[p.type] = Number(p.value);
  }
  const utc = Date.UTC(
    part.year ?? 0,
    (part.month ?? 1) - 1,
    part.day ?? 1,
    part.hour ?? 0,
    part.minute ?? 0,
    part.second ?? 0,
  );
  return utc + (instantMs - wholeSeconds);
}

/**
 * The instant at which `timeZone` shows the wall-clock time `wallMs`, resolved as java.time and
 * Temporal do: a time shown twice (clocks going back) is its earlier instant; a time skipped
 * (clocks going forward) is moved later by the length of the gap, so 02:30 on a spring-forward
 * night in Berlin is 03:30 CEST.
 */
export function instantAt(wallMs: number, timeZone: string): number {
  // A transition is never more than a few hours from a skipped or repeated time, so the offsets a
  // day either side are the ones before and after it.
  const offsetBefore = wallClockAt(wallMs - DAY_MS, timeZone) - (wallMs - DAY_MS);
  const offsetAfter = wallClockAt(wallMs + DAY_MS, timeZone) - (wallMs + DAY_MS);
  const withBefore = wallMs - offsetBefore;
  if (offsetBefore === offsetAfter) return withBefore;
  const withAfter = wallMs - offsetAfter;
  const beforeFits = wallClockAt(withBefore, timeZone) === wallMs;
  const afterFits = wallClockAt(withAfter, timeZone) === wallMs;
  if (beforeFits && afterFits) return Math.min(withBefore, withAfter);
  if (afterFits) return withAfter;
  return withBefore;
}
