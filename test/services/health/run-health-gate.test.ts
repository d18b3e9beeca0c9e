import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPrometheusClient,
  type PrometheusClient,
} from "../../../src/adapters/prometheus/prometheus-client.js";
import type { HealthCheckConfig } from "../../../src/core/health/evaluate-health-check.js";
import type { HealthQueryVars } from "../../../src/core/health/render-health-query.js";
import { runHealthGate } from "../../../src/services/health/run-health-gate.js";
import {
  type MetricsTarget,
  type RunningPrometheus,
  startMetricsTarget,
  startPrometheus,
  waitForSeries,
} from "../../support/prometheus.js";

/**
 * Health gates against Debian's Prometheus 2.42 (/usr/bin/prometheus; fails, not skips, without
 * it), scraping a target whose request counters the test drives: one image per scenario, all
 * scraped at once, so the file waits for data only once.
 */
let prom: RunningPrometheus;
let target: MetricsTarget;
let client: PrometheusClient;

const errorRate: HealthCheckConfig = {
  query:
    'sum(rate(http_requests_total{image="{{image}}",stage="{{stage}}",code=~"5.."}[10s])) / sum(rate(http_requests_total{image="{{image}}",stage="{{stage}}"}[10s]))',
  max: 0.01,
  requestsQuery: 'sum(increase(http_requests_total{image="{{image}}",stage="{{stage}}"}[10s]))',
  minRequests: 100,
};
const gate = (image: string, checks = [{ name: "error-rate", check: errorRate }]) =>
  runHealthGate(client, checks, vars(image), new Date());
const vars = (image: string): HealthQueryVars => ({
  image,
  stage: "canary",
  digest: `sha256:${"c".repeat(64)}`,
});

beforeAll(async () => {
  target = await startMetricsTarget();
  prom = await startPrometheus({ targets: [target.target], scrapeIntervalMs: 1000 });
  client = createPrometheusClient({ url: prom.url, retries: 0 });
  target.setRates({ image: "ghcr.io/acme/healthy", stage: "canary" }, { ok: 100, errors: 0.2 });
  target.setRates({ image: "ghcr.io/acme/failing", stage: "canary" }, { ok: 100, errors: 10 });
  target.setRates({ image: "ghcr.io/acme/idle", stage: "canary" }, { ok: 1, errors: 0 });
  // Five scrapes of the slowest series in the 10 s window: rates and increases are steady by then.
  await waitForSeries(
    client,
    'count_over_time(http_requests_total{image="ghcr.io/acme/idle",code="200"}[10s]) >= 5',
  );
}, 30_000);
afterAll(async () => {
  await prom?.stop();
  await target?.close();
});

describe("runHealthGate against Prometheus", () => {
  it("passes healthy traffic: error ratio under max with enough requests", async () => {
    const result = await gate("ghcr.io/acme/healthy");
    expect(result.outcome).toBe("pass");
    const [check] = result.checks;
    expect(check?.query).toBe(
      'sum(rate(http_requests_total{image="ghcr.io/acme/healthy",stage="canary",code=~"5.."}[10s])) / sum(rate(http_requests_total{image="ghcr.io/acme/healthy",stage="canary"}[10s]))',
    );
    expect(check?.value).toBeGreaterThanOrEqual(0);
    expect(check?.value).toBeLessThan(0.01);
    expect(check?.requests).toBeGreaterThanOrEqual(100);
    expect(check?.reason).toMatch(/^0(\.\d+)? ≤ 0\.01 \(max\)$/);
  });

  it("fails an error ratio above max", async () => {
    const result = await gate("ghcr.io/acme/failing");
    expect(result.outcome).toBe("fail");
    expect(result.checks[0]?.value).toBeGreaterThan(0.05);
    expect(result.checks[0]?.reason).toMatch(/^0\.\d+ > 0\.01 \(max\)$/);
  });

  it("is inconclusive when traffic is below minRequests, even with no errors", async () => {
    const result = await gate("ghcr.io/acme/idle");
    expect(result.outcome).toBe("inconclusive");
    expect(result.checks[0]?.requests).toBeLessThan(100);
    expect(result.checks[0]?.reason).toMatch(
      /^\d+ requests? in the window, fewer than the 100 needed to judge$/,
    );
  });

  it("is inconclusive when nothing serves the image", async () => {
    const result = await gate("ghcr.io/acme/never-deployed");
    expect(result.checks[0]).toMatchObject({
      outcome: "inconclusive",
      value: null,
      requests: null,
      reason: "the requests query returned no data, so there is no traffic to judge (100 requests needed)",
    });
  });

  it("is inconclusive when the query itself returns no data", async () => {
    const latency = { query: 'max(request_latency_seconds{image="{{image}}"})', max: 0.5, minRequests: 0 };
    const result = await gate("ghcr.io/acme/healthy", [{ name: "latency", check: latency }]);
    expect(result.outcome).toBe("inconclusive");
    expect(result.checks[0]?.reason).toBe("the query returned no data");
  });

  it("one check inconclusive and one passing make the gate inconclusive; the result is plain JSON", async () => {
    const result = await gate("ghcr.io/acme/healthy", [
      { name: "error-rate", check: errorRate },
      { name: "busy", check: { ...errorRate, minRequests: 1_000_000 } },
    ]);
    expect(result.checks.map((c) => c.outcome)).toEqual(["pass", "inconclusive"]);
    expect(result.outcome).toBe("inconclusive");
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it("bad PromQL is inconclusive, saying which check to fix in patchpilot.yaml", async () => {
    const broken = { ...errorRate, query: 'sum(rate(http_requests_total{image="{{image}}"}[10s]) / ' };
    const result = await gate("ghcr.io/acme/failing", [{ name: "error-rate", check: broken }]);
    expect(result.outcome).toBe("inconclusive");
    expect(result.checks[0]?.reason).toMatch(
      new RegExp(
        `^Prometheus at ${prom.url} rejected the query for health check "error-rate": 1:\\d+: parse error: .+; fix healthChecks\\.error-rate\\.query in patchpilot\\.yaml$`,
      ),
    );
  });

  it("an unknown placeholder is inconclusive before anything is sent", async () => {
    const typo = {
      ...errorRate,
      requestsQuery: 'sum(increase(http_requests_total{image="{{imgae}}"}[10s]))',
    };
    const result = await gate("ghcr.io/acme/healthy", [{ name: "error-rate", check: typo }]);
    expect(result.checks[0]?.outcome).toBe("inconclusive");
    expect(result.checks[0]?.reason).toBe(
      "healthChecks.error-rate.requestsQuery in patchpilot.yaml: unknown placeholder {{imgae}} (did you mean {{image}}?); known: {{image}}, {{stage}}, {{digest}}, {{environment}}, {{team}}",
    );
  });
});
