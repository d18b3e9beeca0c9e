import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  combineGate,
  evaluateHealthCheck,
  formatNumber,
  type HealthObservation,
  type HealthOutcome,
  type HealthThresholds,
} from "../../../src/core/health/evaluate-health-check.js";

const errorRate: HealthThresholds = { max: 0.01, minRequests: 100 };
const latency: HealthThresholds = { max: 0.5, min: 0, minRequests: 0 };
const throughput: HealthThresholds = { min: 5, minRequests: 0 };

describe("evaluateHealthCheck", () => {
  it.each<[string, HealthThresholds, HealthObservation, HealthOutcome, number | null, string]>([
    ["healthy traffic", errorRate, { samples: [0.002], requests: 5000 }, "pass", 0.002, "0.002 ≤ 0.01 (max)"],
    ["at the threshold", errorRate, { samples: [0.01], requests: 100 }, "pass", 0.01, "0.01 ≤ 0.01 (max)"],
    ["above max", errorRate, { samples: [0.042], requests: 5000 }, "fail", 0.042, "0.042 > 0.01 (max)"],
    [
      "just above max shows the digits that differ",
      errorRate,
      { samples: [0.0100001], requests: 5000 },
      "fail",
      0.0100001,
      "0.0100001 > 0.01 (max)",
    ],
    [
      "too few requests",
      errorRate,
      { samples: [0.5], requests: 12 },
      "inconclusive",
      0.5,
      "12 requests in the window, fewer than the 100 needed to judge",
    ],
    [
      "one request",
      errorRate,
      { samples: [0], requests: 1 },
      "inconclusive",
      0,
      "1 request in the window, fewer than the 100 needed to judge",
    ],
    [
      "extrapolated requests",
      errorRate,
      { samples: [0], requests: 11.6666 },
      "inconclusive",
      0,
      "11 requests in the window, fewer than the 100 needed to judge",
    ],
    [
      "just under minRequests never reads as enough",
      errorRate,
      { samples: [0], requests: 99.6 },
      "inconclusive",
      0,
      "99 requests in the window, fewer than the 100 needed to judge",
    ],
    [
      "requests query without data",
      errorRate,
      { samples: [0], requests: null },
      "inconclusive",
      0,
      "the requests query returned no data, so there is no traffic to judge (100 requests needed)",
    ],
    [
      "requests query NaN",
      errorRate,
      { samples: [0], requests: Number.NaN },
      "inconclusive",
      0,
      "the requests query returned no data, so there is no traffic to judge (100 requests needed)",
    ],
    [
      "no samples",
      errorRate,
      { samples: [], requests: 500 },
      "inconclusive",
      null,
      "the query returned no data",
    ],
    [
      "null samples",
      latency,
      { samples: null, requests: undefined },
      "inconclusive",
      null,
      "the query returned no data",
    ],
    [
      "0/0 with no requests query",
      latency,
      { samples: [Number.NaN], requests: undefined },
      "inconclusive",
      null,
      "the query returned no data (NaN: nothing to divide by?)",
    ],
    [
      "one series NaN, the rest fine",
      latency,
      { samples: [0.1, Number.NaN], requests: undefined },
      "inconclusive",
      0.1,
      "1 of 2 series returned no data (NaN)",
    ],
    [
      "one series NaN, another failing",
      latency,
      { samples: [0.9, Number.NaN], requests: undefined },
      "fail",
      0.9,
      "worst of 2 series: 0.9 > 0.5 (max)",
    ],
    [
      "+Inf fails and is not a JSON number",
      latency,
      { samples: [Number.POSITIVE_INFINITY], requests: undefined },
      "fail",
      null,
      "+Inf > 0.5 (max)",
    ],
    ["below min", throughput, { samples: [3], requests: undefined }, "fail", 3, "3 < 5 (min)"],
    ["above min", throughput, { samples: [7.25], requests: undefined }, "pass", 7.25, "7.25 ≥ 5 (min)"],
    [
      "worst series is the one past the threshold",
      latency,
      { samples: [0.1, 0.7, 0.3], requests: undefined },
      "fail",
      0.7,
      "worst of 3 series: 0.7 > 0.5 (max)",
    ],
    [
      "both thresholds, within",
      latency,
      { samples: [0.25], requests: undefined },
      "pass",
      0.25,
      "0.25 within 0–0.5",
    ],
    [
      "both thresholds, below min",
      latency,
      { samples: [-1], requests: undefined },
      "fail",
      -1,
      "-1 < 0 (min)",
    ],
    [
      "minRequests 0 still needs the requests query to answer",
      { max: 1, minRequests: 0 },
      { samples: [0], requests: null },
      "inconclusive",
      0,
      "the requests query returned no data, so there is no traffic to judge",
    ],
    [
      "minRequests 0 with zero requests",
      { max: 1, minRequests: 0 },
      { samples: [0], requests: 0 },
      "pass",
      0,
      "0 ≤ 1 (max)",
    ],
    [
      "large numbers keep their integer part",
      { max: 1000, minRequests: 0 },
      { samples: [1234.5678], requests: undefined },
      "fail",
      1234.5678,
      "1235 > 1000 (max)",
    ],
  ])("%s", (_name, check, observed, outcome, value, reason) => {
    const r = evaluateHealthCheck(check, observed);
    expect(r).toEqual({
      outcome,
      value,
      requests:
        observed.requests === undefined || observed.requests === null || Number.isNaN(observed.requests)
          ? null
          : observed.requests,
      reason,
    });
  });

  const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 });

  it("a value within the thresholds with enough requests always passes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (samples, minRequests, extra) => {
          const r = evaluateHealthCheck(
            { min: 0, max: 1, minRequests },
            { samples, requests: minRequests + extra },
          );
          expect(r.outcome).toBe("pass");
        },
      ),
    );
  });

  it("any sample past a threshold fails once there are enough requests", () => {
    fc.assert(
      fc.property(fc.array(finite, { maxLength: 5 }), finite, finite, (others, bad, max) => {
        fc.pre(bad > max);
        const r = evaluateHealthCheck({ max, minRequests: 10 }, { samples: [...others, bad], requests: 10 });
        expect(r.outcome).toBe("fail");
      }),
    );
  });

  it("too few requests is inconclusive whatever the samples say", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double(), { maxLength: 5 }),
        fc.integer({ min: 1, max: 1000 }),
        (samples, need) => {
          const r = evaluateHealthCheck({ max: 0.01, minRequests: need }, { samples, requests: need - 1 });
          expect(r.outcome).toBe("inconclusive");
        },
      ),
    );
  });

  it("the result survives JSON unchanged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double(), { maxLength: 5 }),
        fc.option(fc.double(), { nil: undefined }),
        fc.option(finite, { nil: undefined }),
        fc.option(finite, { nil: undefined }),
        (samples, requests, max, min) => {
          const r = evaluateHealthCheck({ max, min, minRequests: 0 }, { samples, requests });
          expect(JSON.parse(JSON.stringify(r))).toEqual(r);
        },
      ),
    );
  });
});

describe("combineGate", () => {
  it.each<[HealthOutcome[], HealthOutcome]>([
    [["pass"], "pass"],
    [["pass", "pass"], "pass"],
    [["pass", "inconclusive"], "inconclusive"],
    [["inconclusive", "fail"], "fail"],
    [["pass", "fail", "pass"], "fail"],
    [[], "inconclusive"],
  ])("%j → %s", (outcomes, expected) => {
    expect(combineGate(outcomes.map((outcome) => ({ outcome })))).toBe(expected);
  });
});

describe("formatNumber", () => {
  it.each<[number, string]>([
    [0.042, "0.042"],
    [0.0123456, "0.0123"],
    [12, "12"],
    [1234.5678, "1235"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "+Inf"],
    [Number.NEGATIVE_INFINITY, "-Inf"],
  ])("%d → %s", (x, shown) => {
    expect(formatNumber(x)).toBe(shown);
  });
});
