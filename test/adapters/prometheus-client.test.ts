import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createPrometheusClient,
  type PrometheusClientOptions,
  PrometheusError,
} from "../../src/adapters/prometheus/prometheus-client.js";
import { runHealthGate } from "../../src/services/health/run-health-gate.js";

type Handler = (req: IncomingMessage & { form: URLSearchParams }, res: ServerResponse) => void;

let server: Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** A stand-in Prometheus answering each request with the next handler (the last one repeats). */
async function fakePrometheus(...handlers: Handler[]): Promise<{ url: string; calls: URLSearchParams[] }> {
  const calls: URLSearchParams[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const form = new URLSearchParams(body);
      calls.push(form);
      const h = handlers[Math.min(calls.length, handlers.length) - 1] as Handler;
      h(Object.assign(req, { form }), res);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

const json =
  (status: number, body: unknown): Handler =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
const vector = (...values: string[]) =>
  json(200, {
    status: "success",
    data: {
      resultType: "vector",
      result: values.map((v, i) => ({ metric: { pod: `api-${i}` }, value: [1795530527.4, v] })),
    },
  });

function client(url: string, extra: Partial<PrometheusClientOptions> = {}) {
  return createPrometheusClient({ url, retryBaseMs: 5, ...extra });
}

async function caught(p: Promise<unknown>): Promise<PrometheusError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PrometheusError);
  return err as PrometheusError;
}

describe("createPrometheusClient", () => {
  it("sends the query and time, and reads vector values including NaN and ±Inf", async () => {
    const fake = await fakePrometheus(vector("0.25", "NaN", "+Inf", "-Inf"));
    const at = new Date("2026-11-24T09:12:34.567Z");
    const v = await client(fake.url).query('sum(up{job="x"})', at);
    expect(fake.calls[0]?.get("query")).toBe('sum(up{job="x"})');
    expect(fake.calls[0]?.get("time")).toBe("1795511554.567");
    expect(v).toEqual({
      type: "vector",
      samples: [
        { labels: { pod: "api-0" }, value: 0.25 },
        { labels: { pod: "api-1" }, value: Number.NaN },
        { labels: { pod: "api-2" }, value: Number.POSITIVE_INFINITY },
        { labels: { pod: "api-3" }, value: Number.NEGATIVE_INFINITY },
      ],
    });
  });

  it("reads a scalar", async () => {
    const fake = await fakePrometheus(
      json(200, { status: "success", data: { resultType: "scalar", result: [1795530527.4, "3"] } }),
    );
    expect(await client(fake.url).query("scalar(up)")).toEqual({ type: "scalar", value: 3 });
  });

  it("keeps a path prefix in the URL", async () => {
    let path = "";
    const fake = await fakePrometheus((req, res) => {
      path = req.url ?? "";
      vector("1")(req, res);
    });
    await client(`${fake.url}/prometheus/`).query("up");
    expect(path).toBe("/prometheus/api/v1/query");
  });

  it("retries a 503 and then succeeds", async () => {
    const fake = await fakePrometheus(
      json(503, { status: "error", errorType: "unavailable", error: "TSDB not ready" }),
      vector("0.5"),
    );
    const v = await client(fake.url).query("up");
    expect(v).toEqual({ type: "vector", samples: [{ labels: { pod: "api-0" }, value: 0.5 }] });
    expect(fake.calls).toHaveLength(2);
  });

  it("gives up after its retries on a lasting 5xx", async () => {
    const fake = await fakePrometheus(json(502, { oops: true }));
    const err = await caught(client(fake.url, { retries: 2 }).query("up"));
    expect(fake.calls).toHaveLength(3);
    expect(err.retryable).toBe(true);
    expect(err.kind).toBe("unavailable");
    expect(err.message).toBe(
      `Prometheus at ${fake.url} answered 502 (3 attempts); check prometheus.url in patchpilot.yaml and that Prometheus is up`,
    );
  });

  it("names the health check and what to fix when the PromQL is rejected, without retrying", async () => {
    const fake = await fakePrometheus(
      json(400, {
        status: "error",
        errorType: "bad_data",
        error: 'invalid parameter "query": 1:5: parse error: unexpected end of input',
      }),
    );
    const err = await caught(
      client(fake.url).query("sum(", undefined, { healthCheck: "error-rate", field: "query" }),
    );
    expect(fake.calls).toHaveLength(1);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      `Prometheus at ${fake.url} rejected the query for health check "error-rate": 1:5: parse error: unexpected end of input; fix healthChecks.error-rate.query in patchpilot.yaml`,
    );
  });

  it("times out an attempt that gets no answer", async () => {
    const fake = await fakePrometheus(() => {
      /* never answers */
    });
    const err = await caught(client(fake.url, { timeoutMs: 200, retries: 1 }).query("up"));
    expect(fake.calls).toHaveLength(2);
    expect(err.kind).toBe("unreachable");
    expect(err.message).toBe(
      `Prometheus could not be reached at ${fake.url}: no answer within 200 ms (2 attempts); check prometheus.url in patchpilot.yaml and that Prometheus is up`,
    );
  });

  it("says a non-JSON answer is not Prometheus", async () => {
    const fake = await fakePrometheus((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<html>Grafana</html>");
    });
    const err = await caught(client(fake.url).query("up"));
    expect(err.kind).toBe("bad-answer");
    expect(err.message).toBe(
      `Prometheus at ${fake.url} answered something that is not JSON; check prometheus.url in patchpilot.yaml points at the Prometheus server, not a proxy or web page`,
    );
  });

  it("rejects JSON of the wrong shape", async () => {
    const fake = await fakePrometheus(
      json(200, { status: "success", data: { resultType: "vector", result: [{ value: "x" }] } }),
    );
    expect((await caught(client(fake.url).query("up"))).message).toContain("JSON that is not a query result");
  });

  it("tells a 404 to check the URL", async () => {
    const fake = await fakePrometheus((_req, res) => {
      res.writeHead(404).end("not found");
    });
    const err = await caught(client(`${fake.url}/grafana`).query("up"));
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      `Prometheus at ${fake.url}/grafana answered 404 to /api/v1/query; check prometheus.url in patchpilot.yaml points at the Prometheus server (e.g. http://prometheus:9090)`,
    );
  });

  it("sends credentials in the URL as Basic auth and keeps the password out of messages", async () => {
    let auth: string | undefined;
    const fake = await fakePrometheus((req, res) => {
      auth = req.headers.authorization;
      res.writeHead(404).end();
    });
    const withCreds = fake.url.replace("http://", "http://reader:not-a-real-password@");
    const err = await caught(client(withCreds).query("up"));
    expect(auth).toBe(`Basic ${Buffer.from("reader:not-a-real-password").toString("base64")}`);
    expect(err.message).not.toContain("not-a-real-password");
    expect(err.message).toContain(`at ${fake.url} answered 404`);
  });
});

describe("runHealthGate when Prometheus misbehaves", () => {
  const checks = [
    {
      name: "error-rate",
      check: { query: 'sum(rate(x{image="{{image}}"}[1m]))', max: 0.01, minRequests: 0 },
    },
  ];
  const vars = { image: "ghcr.io/acme/api", stage: "canary", digest: "sha256:abc" };
  const now = new Date("2026-11-24T09:12:34Z");

  it("an unreachable Prometheus makes the check inconclusive, saying why", async () => {
    const fake = await fakePrometheus(vector("0"));
    const url = fake.url;
    await new Promise<void>((resolve) => {
      server?.close(() => resolve());
      server = undefined;
    });
    const gate = await runHealthGate(client(url), checks, vars, now);
    expect(gate).toEqual({
      outcome: "inconclusive",
      checkedAt: "2026-11-24T09:12:34.000Z",
      checks: [
        {
          name: "error-rate",
          query: 'sum(rate(x{image="ghcr.io/acme/api"}[1m]))',
          value: null,
          requests: null,
          outcome: "inconclusive",
          reason: `Prometheus could not be reached at ${url}: connection refused (3 attempts); check prometheus.url in patchpilot.yaml and that Prometheus is up`,
          // Asking again later may judge it: the gate retries before asking a person.
          transient: true,
        },
      ],
    });
  });

  it("a 503 followed by an answer still judges the check", async () => {
    const fake = await fakePrometheus(json(503, {}), vector("0.5"));
    const gate = await runHealthGate(client(fake.url), checks, vars, now);
    expect(gate.outcome).toBe("fail");
    expect(gate.checks[0]?.reason).toBe("0.5 > 0.01 (max)");
  });

  it("a malformed answer is inconclusive", async () => {
    const fake = await fakePrometheus((_req, res) => {
      res.writeHead(200).end("{not json");
    });
    const gate = await runHealthGate(client(fake.url), checks, vars, now);
    expect(gate.outcome).toBe("inconclusive");
    expect(gate.checks[0]?.reason).toContain("answered something that is not JSON");
  });
});
