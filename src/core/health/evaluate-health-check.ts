/** A health check's thresholds, as `healthChecks.<id>` in patchpilot.yaml has them. */
export type HealthThresholds = {
  max?: number | undefined;
  min?: number | undefined;
  minRequests: number;
};

/** One `healthChecks.<id>` entry of patchpilot.yaml. */
export type HealthCheckConfig = HealthThresholds & {
  query: string;
  requestsQuery?: string | undefined;
};

export type HealthOutcome = "pass" | "fail" | "inconclusive";

export type HealthObservation = {
  /** The query's sample values; null or [] when it returned no data. */
  samples: number[] | null;
  /** What the requests query returned: null for no data, undefined when there is no requests query. */
  requests: number | null | undefined;
};

export type HealthCheckEvaluation = {
  outcome: HealthOutcome;
  /** The worst sample (furthest past, or closest to, a threshold); null when none is a finite number. */
  value: number | null;
  /** The requests in the window; null when there is no requests query or it returned no data. */
  requests: number | null;
  /** One sentence for people: the numbers and the threshold, or why there is no verdict. */
  reason: string;
};

/**
 * Judges one health check. Too few requests (when a requests query is configured) or no data is
 * inconclusive — a quiet night proves nothing either way; any sample past `max` or `min` fails;
 * otherwise it passes. The result holds only finite numbers and null, so it survives JSON.
 */
export function evaluateHealthCheck(
  check: HealthThresholds,
  observed: HealthObservation,
): HealthCheckEvaluation {
  const samples = observed.samples ?? [];
  const numbers = samples.filter((s) => !Number.isNaN(s));
  const worst = worstSample(check, numbers);
  // `+ 0` turns -0 into 0: the result goes through JSON (job data, audit), which has no -0.
  const value = worst !== null && Number.isFinite(worst) ? worst + 0 : null;
  const requests =
    observed.requests === undefined || observed.requests === null || !Number.isFinite(observed.requests)
      ? null
      : observed.requests + 0;
  const result = (outcome: HealthOutcome, reason: string): HealthCheckEvaluation => ({
    outcome,
    value,
    requests,
    reason,
  });

  if (observed.requests !== undefined) {
    if (requests === null)
      return result(
        "inconclusive",
        `the requests query returned no data, so there is no traffic to judge${check.minRequests > 0 ? ` (${formatNumber(check.minRequests)} requests needed)` : ""}`,
      );
    if (requests < check.minRequests) {
      // increase() extrapolates (4.78 requests): whole requests read better, and rounding down
      // keeps "fewer than" true.
      const whole = Math.floor(requests);
      return result(
        "inconclusive",
        `${formatNumber(whole)} request${whole === 1 ? "" : "s"} in the window, fewer than the ${formatNumber(check.minRequests)} needed to judge`,
      );
    }
  }
  if (samples.length === 0) return result("inconclusive", "the query returned no data");
  const of = samples.length > 1 ? `worst of ${samples.length} series: ` : "";
  if (worst !== null) {
    if (check.max !== undefined && worst > check.max)
      return result("fail", `${of}${compare(worst, ">", check.max)} (max)`);
    if (check.min !== undefined && worst < check.min)
      return result("fail", `${of}${compare(worst, "<", check.min)} (min)`);
  }
  if (numbers.length < samples.length)
    return result(
      "inconclusive",
      numbers.length === 0
        ? "the query returned no data (NaN: nothing to divide by?)"
        : `${samples.length - numbers.length} of ${samples.length} series returned no data (NaN)`,
    );
  // Every sample is a number within the thresholds.
  const w = worst as number;
  if (check.max !== undefined && check.min !== undefined)
    return result(
      "pass",
      `${of}${formatNumber(w)} within ${formatNumber(check.min)}–${formatNumber(check.max)}`,
    );
  if (check.max !== undefined) return result("pass", `${of}${compare(w, "≤", check.max)} (max)`);
  if (check.min !== undefined) return result("pass", `${of}${compare(w, "≥", check.min)} (min)`);
  return result("pass", `${of}${formatNumber(w)} (no threshold set)`);
}

/** The gate's verdict over its checks: any fail fails, else any inconclusive, else pass. */
export function combineGate(results: ReadonlyArray<{ outcome: HealthOutcome }>): HealthOutcome {
  if (results.some((r) => r.outcome === "fail")) return "fail";
  if (results.length === 0 || results.some((r) => r.outcome === "inconclusive")) return "inconclusive";
  return "pass";
}

/** The sample furthest past a threshold (or, when all are within, the closest to one). */
function worstSample(check: HealthThresholds, numbers: number[]): number | null {
  let worst: number | null = null;
  let worstBy = Number.NEGATIVE_INFINITY;
  for (const x of numbers) {
    const by = Math.max(
      check.max === undefined ? Number.NEGATIVE_INFINITY : x - check.max,
      check.min === undefined ? Number.NEGATIVE_INFINITY : check.min - x,
    );
    const past = check.max === undefined && check.min === undefined ? x : by;
    if (worst === null || past > worstBy || Number.isNaN(past)) {
      worst = x;
      worstBy = Number.isNaN(past) ? Number.POSITIVE_INFINITY : past;
    }
  }
  return worst;
}

/** `a op b` with as few digits as still show how a and b differ (0.0100001 > 0.01). */
function compare(a: number, op: string, b: number): string {
  for (let p = 3; p < 17; p++) {
    const [as, bs] = [formatNumber(a, p), formatNumber(b, p)];
    if (as !== bs || a === b) return `${as} ${op} ${bs}`;
  }
  return `${formatNumber(a, 17)} ${op} ${formatNumber(b, 17)}`;
}

/** A number in few digits (`digits` significant, never rounding the integer part): 0.0423, 1235, +Inf. */
export function formatNumber(x: number, digits = 3): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "+Inf";
  if (x === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x);
  const intDigits = Math.abs(x) >= 1 ? Math.floor(Math.log10(Math.abs(x))) + 1 : 0;
  return String(Number(x.toPrecision(Math.min(100, Math.max(digits, intDigits)))));
}
