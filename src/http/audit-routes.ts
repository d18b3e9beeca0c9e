import express, { type Router } from "express";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { exportAuditTrail } from "../services/audit/export-audit-trail.js";
import { sendApiError } from "./api-errors.js";
import { requireToken } from "./require-token.js";

const isoDate = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T.+(Z|[+-]\d{2}:?\d{2}))?$/.test(s) && Number.isFinite(Date.parse(s)), {
    error: "expected an ISO date such as 2026-11-01 or 2026-11-01T00:00:00Z",
  })
  .transform((s) => new Date(s));

const query = z.object({
  from: isoDate.optional(),
  to: isoDate.optional(),
  format: z.enum(["jsonl", "csv"], { error: "expected jsonl or csv" }).default("jsonl"),
});

/**
 * GET /api/v1/audit: the audit trail for a period as JSON Lines or CSV, streamed page by page,
 * ending with the chain head so an auditor can later prove the tail was not truncated.
 */
export function createAuditRoutes(deps: { db: Db; now: () => Date }): Router {
  const router = express.Router();
  router.get("/api/v1/audit", requireToken(deps, "audit"), async (req, res, next) => {
    const q = query.safeParse(req.query);
    if (!q.success) {
      const issue = q.error.issues[0];
      sendApiError(
        res,
        400,
        "bad_query",
        `${issue?.path.join(".") ?? "query"}: ${issue?.message ?? "invalid"}`,
      );
      return;
    }
    const { from, to, format } = q.data;
    res.status(200);
    res.setHeader(
      "content-type",
      format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
    );
    res.setHeader("content-disposition", `attachment; filename="patchpilot-audit.${format}"`);
    try {
      await exportAuditTrail(
        deps.db,
        { format, ...(from ? { from } : {}), ...(to ? { to } : {}) },
        (chunk) => {
          if (res.write(chunk)) return;
          return new Promise<void>((resolve) => res.once("drain", () => resolve()));
        },
      );
      res.end();
    } catch (e) {
      // Headers are gone: cut the stream so the client sees a failed download, never a short one.
      if (res.headersSent) res.destroy(e instanceof Error ? e : undefined);
      else next(e);
    }
  });
  return router;
}
