import express, { type Router } from "express";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { type IngestDeps, ingestScan, parseReportOrThrow } from "../services/ingest-scan.js";
import { sendApiError, sendTooLarge } from "./api-errors.js";
import { parseJsonBody } from "./parse-json-body.js";
import { requireToken, tokenIdentity } from "./require-token.js";

const query = z.object({
  image: z.string().min(1).max(500).optional(),
  digest: z.string().min(1).max(200).optional(),
  rollout_id: z.coerce.number().int().positive().optional(),
});

const JSON_TYPES = ["application/json", "application/*+json", "text/json"];

/** POST /api/v1/scans: a CI job uploads a scan report with its team's token. */
export function createScanRoutes(deps: {
  db: Db;
  now: () => Date;
  maxBodyBytes: number;
  /** `alerts.burstWindow` in ms. */
  burstWindowMs: number;
  afterCommit: (outboxIds: number[]) => Promise<void>;
  onRolloutScan?: IngestDeps["onRolloutScan"];
  onUrgentFindings?: IngestDeps["onUrgentFindings"];
}): Router {
  const router = express.Router();
  router.post(
    "/api/v1/scans",
    requireToken(deps, "upload"),
    (req, res, next) => {
      if (!req.is(JSON_TYPES)) {
        const got = req.header("content-type") ?? "none";
        sendApiError(
          res,
          415,
          "unsupported_media_type",
          `send the report as JSON with Content-Type: application/json (got ${got.slice(0, 80)})`,
        );
        return;
      }
      // Refuse a declared oversize body now: body-parser would first drain it, however long.
      const declared = Number(req.header("content-length"));
      if (Number.isFinite(declared) && declared > deps.maxBodyBytes) {
        res.setHeader("connection", "close");
        sendTooLarge(res, deps.maxBodyBytes);
        return;
      }
      next();
    },
    express.raw({ type: () => true, limit: deps.maxBodyBytes }),
    async (req, res, next) => {
      try {
        const q = query.safeParse(req.query);
        if (!q.success) {
          sendApiError(
            res,
            400,
            "bad_query",
            `bad query parameter ${q.error.issues[0]?.path.join(".") ?? ""}: use ?image=REPOSITORY&digest=sha256:…`,
          );
          return;
        }
        const identity = tokenIdentity(res.locals);
        const report = parseReportOrThrow(
          parseJsonBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)),
        );
        // The body and its parse are several times the report's size: let them go before the
        // transaction, which can take seconds for a large report.
        req.body = undefined;
        const result = await ingestScan(
          {
            db: deps.db,
            now: deps.now,
            burstWindowMs: deps.burstWindowMs,
            afterCommit: deps.afterCommit,
            ...(deps.onRolloutScan ? { onRolloutScan: deps.onRolloutScan } : {}),
            ...(deps.onUrgentFindings ? { onUrgentFindings: deps.onUrgentFindings } : {}),
          },
          {
            report,
            imageRef: q.data.image,
            digest: q.data.digest,
            rolloutId: q.data.rollout_id,
            uploaderTeam: identity.teamId,
            actor: { id: `token:${identity.tokenId}`, name: identity.name },
            origin: {
              source: "api",
              tokenId: identity.tokenId,
              requestId: res.getHeader("x-request-id") ?? null,
            },
          },
        );
        const { created, ...answer } = result;
        res.status(created ? 201 : 200).json(answer);
      } catch (e) {
        next(e);
      }
    },
  );
  return router;
}
