export type ParseDurationResult = { ok: true; ms: number } | { ok: false; message: string };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

// Units largest first, each at most once: "1h30m" reads one way only, and "30m1h" or "1h1h" is
// more likely a typo than an intent.
const DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const UNIT_MS = [WEEK, DAY, HOUR, MINUTE, SECOND] as const;

/** Parses `30s`, `15m`, `72h`, `7d`, `2w` and combinations such as `1h30m` or `1d12h`. */
export function parseDuration(text: string): ParseDurationResult {
  const trimmed = text.trim();
  const match = trimmed === "" ? null : DURATION.exec(trimmed);
  if (match === null) {
    return { ok: false, message: `expected a duration like 15m, 72h or 7d, got ${JSON.stringify(text)}` };
  }
  let ms = 0;
  UNIT_MS.forEach((unit, i) => {
    const digits = match[i + 1];
    if (digits !== undefined) ms += Number(digits) * unit;
  });
  if (ms === 0)
    return { ok: false, message: `a duration must be longer than zero, got ${JSON.stringify(text)}` };
  if (!Number.isSafeInteger(ms))
    return { ok: false, message: `the duration ${JSON.stringify(text)} is too long` };
  return { ok: true, ms };
}

const FORMAT_UNITS: ReadonlyArray<readonly [number, string]> = [
  [DAY, "d"],
  [HOUR, "h"],
  [MINUTE, "min"],
  [SECOND, "s"],
];

/**
 * Short human form in the largest unit that fits ("3 d", "5 h", "12 min", "40 s"). Rounds down, so
 * "closes in 2 h" never promises more time than there is.
 */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const abs = Math.abs(ms);
  for (const [unit, label] of FORMAT_UNITS) {
    if (abs >= unit) return `${sign}${Math.floor(abs / unit)} ${label}`;
  }
  return "0 s";
}
