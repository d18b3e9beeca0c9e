import { randomUUID } from "node:crypto";
import express, { type Express } from "express";
import type { Logger } from "../adapters/logger.js";
import type { Metrics } from "./metrics.js";

export type ReadinessCheck = { name: string; check: () => Promise<void> };

const READY_CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The express app every route hangs on: request ids, access metrics, health and metrics
 * routes. Slack, GitHub and the API mount their routes onto it in the composition root.
 */
export function createHttpApp(deps: {
  logger: Logger;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  collectMetrics?: () => Promise<void>;
}): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);

  app.use((req, res, next) => {
    const incoming = req.header("x-request-id");
    const id = incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader("x-request-id", id);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      // The matched route pattern keeps label cardinality bounded; unmatched paths share one label.
      const route =
        typeof req.route?.path === "string"
          ? req.route.path
          : req.path === "/slack/events"
            ? req.path
            : "unmatched";
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.httpDuration.observe(
        { method: req.method, route, status: String(res.statusCode) },
        seconds,
      );
      if (route !== "/healthz" && route !== "/metrics") {
        deps.logger.info(
          { reqId: id, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) },
          "request",
        );
      }
    });
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const results = await Promise.all(
      deps.readiness.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), READY_CHECK_TIMEOUT_MS, name);
          return { name, ok: true as const };
        } catch (e) {
          return { name, ok: false as const, error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
    const failing = results.filter((r) => !r.ok);
    // Names only: error text (hosts, drivers) is for the log, not for whoever can reach the port.
    for (const f of failing)
      deps.logger.warn({ check: f.name, err: "error" in f ? f.error : undefined }, "readiness check failed");
    const checks = Object.fromEntries(results.map((r) => [r.name, r.ok ? "ok" : "failing"]));
    if (failing.length === 0) {
      res.json({ status: "ready", checks });
    } else {
      res.status(503).json({ status: `not ready: ${failing.map((f) => f.name).join(", ")}`, checks });
    }
  });

  app.get("/metrics", async (_req, res) => {
    try {
      await deps.collectMetrics?.();
    } catch (e) {
      deps.logger.warn({ err: e }, "collecting queue metrics failed");
    }
    res.setHeader("content-type", deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  return app;
}
