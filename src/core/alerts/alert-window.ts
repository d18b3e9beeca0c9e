/** Matches the config default `alerts.burstWindow: 2m`, for callers without a config (the CLI). */
export const DEFAULT_BURST_WINDOW_MS = 2 * 60_000;

/**
 * The aggregation window `at` falls in. Windows are aligned to the epoch rather than opened by
 * the first scan, so every process agrees on a window without asking the database.
 */
export function alertWindow(at: Date, windowMs: number): { start: Date; end: Date } {
  const start = Math.floor(at.getTime() / windowMs) * windowMs;
  return { start: new Date(start), end: new Date(start + windowMs) };
}
