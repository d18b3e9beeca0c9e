import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type Metrics = {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  jobOutcomes: Counter<"queue" | "job" | "outcome">;
  queueDepth: Gauge<"queue" | "state">;
};

/**
 * One registry per process instance, never prom-client's global one: tests start many apps.
 * The fleet's posture gauges join it from `services/metrics/posture-metrics.ts` (web and all roles).
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "patchpilot_" });
  return {
    registry,
    httpDuration: new Histogram({
      name: "patchpilot_http_request_duration_seconds",
      help: "HTTP request duration by route",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    jobOutcomes: new Counter({
      name: "patchpilot_job_outcomes_total",
      help: "Background jobs by queue, job name and outcome",
      labelNames: ["queue", "job", "outcome"],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "patchpilot_queue_depth",
      help: "Jobs per queue and state, read from Redis at scrape time",
      labelNames: ["queue", "state"],
      registers: [registry],
    }),
  };
}
