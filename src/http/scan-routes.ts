import express, { type Router } from "express";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { type IngestDeps, ingestScan } from "../services/ingest-scan.js";
import { sendApiError, sendTooLarge } from "./api-errors.js";
import { parseReportBody } from "./parse-json-body.js";
import { contentEncoding, readBody } from "./read-body.js";
import { requireToken, tokenIdentity } from "./require-token.js";

const query = z.object({
  image: z.string().min(1).max(500).optional(),
  digest: z.string().min(1).max(200).optional(),
  rollout_id: z.coerce.number().int().positive().optional(),
});

const JSON_TYPES = ["application/json", "application/*+json", "text/json"];

/**
 * Report bodies read at once, by declared size. A report costs about 1.7 times its size while it
 * is parsed and stored (its bytes, with the findings lists parsed a batch at a time, and what is
 * kept of each finding), so past this the next upload waits with its body unread (TCP holds it)
 * instead of piling up in memory: two bodies at the default 50 MB limit, about 170 MB at worst.
 * Small reports are never held back by each other; one upload always proceeds, however large.
 */
const BODY_BYTES_IN_FLIGHT = 100 * 1024 * 1024;

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
  /** Declared body bytes read and ingested at once (default 100 MiB); one upload always proceeds. */
  bodyBytesInFlight?: number;
}): Router {
  const router = express.Router();
  const budget = byteBudget(deps.bodyBytesInFlight ?? BODY_BYTES_IN_FLIGHT);
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
      // A body of unknown length, or compressed, may be as large as the limit once read.
      const compressed = contentEncoding(req) !== "identity";
      const weight = Number.isFinite(declared) && declared >= 0 && !compressed ? declared : deps.maxBodyBytes;
      let closed = false;
      let release: (() => void) | null = null;
      // "close" comes once the answer is sent or the client is gone, also while still waiting.
      res.once("close", () => {
        closed = true;
        release?.();
      });
      void budget.acquire(weight).then((r) => {
        release = r;
        if (closed) r();
        else next();
      });
    },
    async (req, res, next) => {
      try {
        let body: Buffer | null = await readBody(req, deps.maxBodyBytes);
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
        const report = parseReportBody(body);
        // Let the body go before the transaction, which can take seconds for a large report.
        body = null;
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

/** A FIFO gate holding the sum of admitted weights under `limit`; one entrant always passes. */
function byteBudget(limit: number) {
  let used = 0;
  const waiting: Array<{ weight: number; admit: () => void }> = [];
  const admitNext = () => {
    for (let head = waiting[0]; head !== undefined; head = waiting[0]) {
      if (used > 0 && used + head.weight > limit) return;
      waiting.shift();
      used += head.weight;
      head.admit();
    }
  };
  return {
    /** Resolves once admitted, with the (idempotent) release. */
    acquire(weight: number): Promise<() => void> {
      return new Promise((resolve) => {
        waiting.push({
          weight,
          admit: () => {
            let released = false;
            resolve(() => {
              if (released) return;
              released = true;
              used -= weight;
              admitNext();
            });
          },
        });
        admitNext();
      });
    },
  };
}
