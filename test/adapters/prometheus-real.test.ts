import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPrometheusClient,
  type PrometheusClient,
  PrometheusError,
} from "../../src/adapters/prometheus/prometheus-client.js";
import { renderHealthQuery } from "../../src/core/health/render-health-query.js";
import { type RunningPrometheus, startPrometheus } from "../support/prometheus.js";

/** Debian's Prometheus 2.42 (/usr/bin/prometheus): these tests fail, not skip, without it. */
let prom: RunningPrometheus;
let client: PrometheusClient;

beforeAll(async () => {
  prom = await startPrometheus({ targets: [] });
  client = createPrometheusClient({ url: prom.url, retries: 0 });
});
afterAll(async () => {
  await prom?.stop();
});

const vars = { image: "ghcr.io/acme/api", stage: "canary", digest: "sha256:abc" };

describe("the Prometheus client against Prometheus 2.42", () => {
  it("reads NaN from a vector and +Inf from a scalar", async () => {
    expect(await client.query("vector(0) / 0")).toEqual({
      type: "vector",
      samples: [{ labels: {}, value: Number.NaN }],
    });
    expect(await client.query("1 / 0")).toEqual({ type: "scalar", value: Number.POSITIVE_INFINITY });
  });

  it("evaluates at the time given", async () => {
    const at = new Date("2026-01-02T03:04:05Z");
    expect(await client.query("time()", at)).toEqual({ type: "scalar", value: at.getTime() / 1000 });
  });

  it("says which health check to fix when the PromQL does not parse", async () => {
    const err = await client
      .query('sum(rate(http_requests_total{image="x"}[1m]) / ', undefined, { healthCheck: "error-rate" })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).retryable).toBe(false);
    expect((err as PrometheusError).message).toMatch(
      new RegExp(
        `^Prometheus at ${prom.url} rejected the query for health check "error-rate": 1:\\d+: parse error: [^\\n]+; fix healthChecks\\.error-rate\\.query in patchpilot\\.yaml$`,
      ),
    );
  });

  it("a rendered value reaches Prometheus exactly as given, however hostile", async () => {
    const template = 'label_replace(vector(1), "image", "{{image}}", "", "")';
    const readBack = async (image: string) => {
      const v = await client.query(renderHealthQuery(template, { ...vars, image }));
      expect(v.type).toBe("vector");
      return v.type === "vector" ? v.samples[0]?.labels.image : undefined;
    };
    for (const image of [
      'a"b',
      "back\\slash\\",
      "new\nline\r\t",
      '"}) or vector(1) #',
      "\\x41\\u00e9",
      "ünï ☃ 𝄞",
    ])
      expect(await readBack(image)).toBe(image);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", minLength: 1, maxLength: 20 }), async (image) => {
        expect(await readBack(image)).toBe(image);
      }),
      { numRuns: 40 },
    );
  });
});
