import { CronExpressionParser } from "cron-parser";
import { parseDuration } from "../duration.js";
import { PatchpilotError } from "../errors.js";
import type { MaintenanceWindow } from "./maintenance-window.js";
import { validateWindow } from "./validate-window.js";
import { instantAt, wallClockAt } from "./zoned-time.js";

// Longer than any daylight-saving gap in use today (1 h; 30 min on Lord Howe Island).
const GAP_MARGIN_MS = 3 * 60 * 60 * 1000;

export type WindowSchedule = {
  durationMs: number;
  /** Opening instants strictly after `after`, in increasing order, each once. */
  startsAfter(after: number): Generator<number, never>;
};

/**
 * The cron is evaluated on the zone's wall clock by running it in UTC over floating times and
 * converting each match with `instantAt`. cron-parser's own `tz` option gives answers that depend
 * on where iteration starts around a DST change (a window on the spring-forward night disappears
 * when asked from inside it); UTC has no such changes, so every caller sees the same schedule.
 */
export function windowSchedule(w: MaintenanceWindow): WindowSchedule {
  const problems = validateWindow(w);
  const duration = parseDuration(w.duration);
  if (problems.length > 0 || !duration.ok) {
    throw new PatchpilotError(
      "bug",
      "invalid_window",
      `window used without validation: ${problems.join("; ")}`,
    );
  }
  const { cron, timezone } = w;
  return {
    durationMs: duration.ms,
    *startsAfter(after: number) {
      // A time skipped by a spring-forward is moved later by the gap, so matches up to one gap
      // before `after` on the wall clock can still land after it.
      const from = wallClockAt(after, timezone) - GAP_MARGIN_MS;
      const walls = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: new Date(from - 1) });
      const pending: number[] = [];
      let lastYielded = after;
      for (;;) {
        const wall = walls.next().getTime();
        const at = instantAt(wall, timezone);
        if (at > lastYielded && !pending.includes(at)) {
          pending.push(at);
          pending.sort((a, b) => a - b);
        }
        // No match a gap or more later on the wall clock can resolve to an earlier instant.
        const settled = instantAt(wall - GAP_MARGIN_MS, timezone);
        while (pending[0] !== undefined && pending[0] < settled) {
          const next = pending.shift() ?? 0;
          lastYielded = next;
          yield next;
        }
      }
    },
  };
}
