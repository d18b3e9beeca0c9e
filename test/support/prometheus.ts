import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PrometheusClient, PromValue } from "../../src/adapters/prometheus/prometheus-client.js";

/** Debian's prometheus package; PROMETHEUS_BIN overrides it. Tests fail (not skip) without it. */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";

export type RunningPrometheus = { url: string; stop(): Promise<void> };

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", resolve);
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * A real Prometheus scraping `targets` (host:port, path /metrics) every `scrapeIntervalMs`, with its
 * own temp config and TSDB, on a free 127.0.0.1 port. Resolves once `/-/ready` answers 200.
 */
export async function startPrometheus(opts: {
  targets: string[];
  scrapeIntervalMs?: number;
}): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS_BIN))
    throw new Error(
      `${PROMETHEUS_BIN} not found: install Debian's prometheus package (or set PROMETHEUS_BIN)`,
    );
  const interval = `${opts.scrapeIntervalMs ?? 1000}ms`;
  const dir = await mkdtemp(join(tmpdir(), "patchpilot-prom-"));
  const config = [
    "global:",
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    "scrape_configs:",
    "  - job_name: test",
    "    static_configs:",
    `      - targets: ${JSON.stringify(opts.targets)}`,
    "",
  ].join("\n");
  await writeFile(join(dir, "prometheus.yml"), config);

  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let log = "";
    const child: ChildProcess = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr?.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
        if (!killed) {
          child.kill("SIGKILL");
          await exited;
        }
      }
    };
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready)
        return {
          url,
          async stop() {
            await stop();
            await rm(dir, { recursive: true, force: true });
          },
        };
      await sleep(50);
    }
    await stop();
    lastError = new Error(`Prometheus did not become ready on ${url}:\n${log}`);
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

export type RequestLabels = { image: string; stage?: string };

export type MetricsTarget = {
  /** host:port, for `startPrometheus({ targets })`. */
  target: string;
  /** Adds to `http_requests_total{image, stage, code="200"}` and `{…, code="500"}` right away. */
  addRequests(labels: RequestLabels, ok: number, errors: number): void;
  /** Makes the counters of `labels` grow steadily, per second (0, 0 stops them; the series stay). */
  setRates(labels: RequestLabels, rates: { ok: number; errors: number }): void;
  close(): Promise<void>;
};

type Counter = { ok: number; errors: number; okRate: number; errorRate: number; since: number };

/** A /metrics endpoint in Prometheus text format whose request counters the test drives. */
export async function startMetricsTarget(): Promise<MetricsTarget> {
  const counters = new Map<string, { labels: Required<RequestLabels>; c: Counter }>();
  const entry = (labels: RequestLabels) => {
    const full = { image: labels.image, stage: labels.stage ?? "staging" };
    const key = JSON.stringify(full);
    let e = counters.get(key);
    if (e === undefined) {
      e = { labels: full, c: { ok: 0, errors: 0, okRate: 0, errorRate: 0, since: Date.now() } };
      counters.set(key, e);
    }
    return e;
  };
  /** Folds the steady growth since `since` into the counts. */
  const settle = (c: Counter, now: number) => {
    const s = (now - c.since) / 1000;
    c.ok += c.okRate * s;
    c.errors += c.errorRate * s;
    c.since = now;
  };
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

  const server: Server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    const now = Date.now();
    const lines = ["# HELP http_requests_total Requests served.", "# TYPE http_requests_total counter"];
    for (const { labels, c } of counters.values()) {
      settle(c, now);
      const l = `image="${esc(labels.image)}",stage="${esc(labels.stage)}"`;
      lines.push(`http_requests_total{${l},code="200"} ${Math.floor(c.ok)}`);
      lines.push(`http_requests_total{${l},code="500"} ${Math.floor(c.errors)}`);
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(`${lines.join("\n")}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    addRequests(labels, ok, errors) {
      const { c } = entry(labels);
      settle(c, Date.now());
      c.ok += ok;
      c.errors += errors;
    },
    setRates(labels, rates) {
      const { c } = entry(labels);
      settle(c, Date.now());
      c.okRate = rates.ok;
      c.errorRate = rates.errors;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Polls `query` until `ready` holds (default: a non-empty vector of finite values), e.g.
 * `count_over_time(http_requests_total{image="api"}[10s]) >= 5` for five scrapes in the window.
 */
export async function waitForSeries(
  client: Pick<PrometheusClient, "query">,
  query: string,
  opts: { timeoutMs?: number; ready?: (v: PromValue) => boolean } = {},
): Promise<PromValue> {
  const ready =
    opts.ready ??
    ((v: PromValue) =>
      v.type === "vector" && v.samples.length > 0 && v.samples.every((s) => Number.isFinite(s.value)));
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: PromValue | undefined;
  while (Date.now() < deadline) {
    last = await client.query(query);
    if (ready(last)) return last;
    await sleep(250);
  }
  throw new Error(`Prometheus never had data for ${query}; last answer: ${JSON.stringify(last)}`);
}
