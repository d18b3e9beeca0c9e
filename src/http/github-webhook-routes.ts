import { eq } from "drizzle-orm";
import express, { type Router } from "express";
import { z } from "zod";
import type { Logger } from "../adapters/logger.js";
import type { Db } from "../db/client.js";
import { githubDeliveries } from "../db/schema/index.js";
import type { applyWorkflowRun, RunReport } from "../services/rollouts/apply-workflow-run.js";
import { sendApiError } from "./api-errors.js";

/** GitHub caps webhook payloads at 25 MB; a workflow_run is a few kB. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

const workflowRunEvent = z.object({
  action: z.string(),
  workflow_run: z.object({
    id: z.number(),
    name: z.string().nullish(),
    display_title: z.string().nullish(),
    status: z.string(),
    conclusion: z.string().nullish(),
    html_url: z.string().nullish(),
  }),
});

export type GithubWebhookDeps = {
  db: Db;
  /** Null when GITHUB_WEBHOOK_SECRET is not set: deliveries are refused, never trusted unsigned. */
  verify: ((body: Buffer, signature: string | undefined) => Promise<boolean>) | null;
  apply: (run: RunReport, origin: Record<string, unknown>) => ReturnType<typeof applyWorkflowRun>;
  logger: Logger;
};

/**
 * POST /github/webhooks: `workflow_run` deliveries, signed with X-Hub-Signature-256 over the raw
 * body (checked before anything is parsed) and applied once per X-GitHub-Delivery.
 */
export function createGithubWebhookRoutes(deps: GithubWebhookDeps): Router {
  const router = express.Router();
  router.post(
    "/github/webhooks",
    express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES }),
    async (req, res, next) => {
      try {
        if (!deps.verify) {
          sendApiError(res, 503, "not_configured", "set GITHUB_WEBHOOK_SECRET to receive GitHub webhooks");
          return;
        }
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        if (!(await deps.verify(body, req.header("x-hub-signature-256")))) {
          sendApiError(
            res,
            401,
            "bad_signature",
            "X-Hub-Signature-256 does not match the body and the webhook secret",
          );
          return;
        }
        const event = req.header("x-github-event") ?? "";
        const delivery = req.header("x-github-delivery") ?? "";
        if (event === "ping") {
          res.status(200).json({ ok: true });
          return;
        }
        if (event !== "workflow_run") {
          res.status(202).json({ ignored: event || "unnamed event" });
          return;
        }
        if (!delivery) {
          sendApiError(res, 400, "no_delivery_id", "X-GitHub-Delivery is missing");
          return;
        }
        let parsed: z.infer<typeof workflowRunEvent>;
        try {
          parsed = workflowRunEvent.parse(JSON.parse(body.toString("utf8")));
        } catch {
          sendApiError(res, 400, "bad_payload", "the body is not a workflow_run event");
          return;
        }
        const fresh = await deps.db
          .insert(githubDeliveries)
          .values({ deliveryId: delivery, event })
          .onConflictDoNothing()
          .returning();
        if (fresh.length === 0) {
          res.status(200).json({ duplicate: true });
          return;
        }
        const run = parsed.workflow_run;
        try {
          const result = await deps.apply(
            {
              runId: String(run.id),
              title: run.display_title ?? run.name ?? "",
              status: run.status,
              conclusion: run.conclusion ?? null,
              htmlUrl: run.html_url ?? null,
            },
            { source: "github", delivery, event, action: parsed.action },
          );
          res.status(200).json({ result });
        } catch (e) {
          // Forget the delivery so GitHub's "Redeliver" (or the poller) can apply it later.
          await deps.db.delete(githubDeliveries).where(eq(githubDeliveries.deliveryId, delivery));
          throw e;
        }
      } catch (e) {
        next(e);
      }
    },
  );
  router.use("/github/webhooks", ((err, _req, res, _next) => {
    const type = typeof err === "object" && err !== null && "type" in err ? String(err.type) : "";
    if (type === "entity.too.large") {
      sendApiError(res, 413, "too_large", `webhook bodies are limited to ${MAX_WEBHOOK_BYTES / 1024} kB`);
      return;
    }
    const reference = `ERR-${Date.now().toString(36).toUpperCase()}`;
    deps.logger.error({ err: err instanceof Error ? err.message : String(err), reference }, "webhook failed");
    sendApiError(
      res,
      500,
      "internal",
      `the delivery could not be applied; redeliver it. Reference: ${reference}`,
    );
  }) as express.ErrorRequestHandler);
  return router;
}
