import { SEVERITIES } from "../../core/digest/severity-counts.js";
import type { Severity } from "../../core/scan/normalized-report.js";
import { slaClock } from "../../core/sla/sla-clock.js";
import { DAY_MS, type SlaPolicy } from "../../core/sla/sla-policy.js";

/** First-seen instants that put a finding in a state at `now`, for one (severity, known exploited). */
export type SlaCutoffs = {
  /** First seen strictly before this: breached. */
  breachedBefore: Date;
  /** First seen strictly before this (and not breached): due soon. */
  dueSoonBefore: Date;
};

/** Cutoffs per severity, for findings not known exploited (`plain`) and known exploited (`kev`). */
export type SlaThresholds = {
  plain: Partial<Record<Severity, SlaCutoffs>>;
  kev: Partial<Record<Severity, SlaCutoffs>>;
};

const EPOCH = new Date(0);

/**
 * Turns the SLA clock into first-seen cutoffs, so SQL compares one timestamp per finding instead
 * of doing date arithmetic on every row. The SLA length comes from `slaClock` itself, so the two
 * cannot disagree on which severities have a clock or how known-exploited shortens it.
 *
 * `slaClock` works on JavaScript dates, i.e. first-seen truncated to the millisecond. With whole
 * milliseconds `now` and `sla`: due <= now  ⟺  ms(firstSeen) <= now − sla  ⟺  firstSeen < now − sla + 1 ms,
 * which also holds for a first-seen with microseconds. Likewise for due soon.
 */
export function slaThresholds(policy: SlaPolicy, now: Date): SlaThresholds {
  const thresholds: SlaThresholds = { plain: {}, kev: {} };
  for (const knownExploited of [false, true]) {
    for (const severity of SEVERITIES) {
      const { dueAt } = slaClock({ severity, knownExploited, firstSeenAt: EPOCH }, policy, EPOCH);
      if (dueAt === null) continue;
      const breachedBefore = now.getTime() - dueAt.getTime() + 1;
      thresholds[knownExploited ? "kev" : "plain"][severity] = {
        breachedBefore: new Date(breachedBefore),
        dueSoonBefore: new Date(breachedBefore + policy.dueSoonDays * DAY_MS),
      };
    }
  }
  return thresholds;
}
