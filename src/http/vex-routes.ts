import express, { type ErrorRequestHandler, type RequestHandler, type Router } from "express";
import { z } from "zod";
import type { PatchpilotConfig } from "../config/file-schema.js";
import { PatchpilotError } from "../core/errors.js";
import type { Db } from "../db/client.js";
import { exportVexForImage } from "../services/risk/export-vex.js";
import { importVex } from "../services/risk/import-vex.js";
import { authenticateToken } from "../services/upload-tokens.js";
import { sendApiError } from "./api-errors.js";
import { requireToken, tokenIdentity } from "./require-token.js";

export type VexRoutesDeps = { db: Db; config: PatchpilotConfig; now: () => Date; maxBodyBytes: number };

const imageQuery = z.string().trim().min(1).max(512);

/**
 * `POST /api/v1/vex` imports an OpenVEX or CycloneDX VEX document for the token's team;
 * `GET /api/v1/vex/openvex?image=REF` exports an image's acceptances and VEX decisions as
 * OpenVEX. Errors are `{error:{code,message}}`; anything unexpected goes on to the API's
 * error handler.
 */
export function createVexRoutes(deps: VexRoutesDeps): Router {
  const router = express.Router();

  router.post(
    "/api/v1/vex",
    requireToken(deps, "upload"),
    requireJsonBody,
    // The content type was checked above; parse whatever JSON media type it was.
    express.json({ limit: deps.maxBodyBytes, type: () => true }),
    async (req, res) => {
      if (req.body === undefined) {
        sendApiError(res, 400, "empty_body", "the body is empty; send the VEX document's JSON");
        return;
      }
      const identity = tokenIdentity(res.locals);
      const summary = await importVex(deps, {
        doc: req.body,
        actor: { id: `token:${identity.tokenId}`, name: identity.name },
        origin: apiOrigin("POST /api/v1/vex", identity.tokenId, res.getHeader("x-request-id")),
        ...(identity.teamId === null ? {} : { teamId: identity.teamId }),
      });
      res.status(200).json(summary);
    },
  );

  router.get("/api/v1/vex/openvex", requireAnyToken(deps), async (req, res) => {
    const image = imageQuery.safeParse(req.query.image);
    if (!image.success) {
      sendApiError(
        res,
        400,
        "image_required",
        "pass the image as ?image=REPOSITORY, e.g. ?image=ghcr.io/acme/api",
      );
      return;
    }
    const identity = tokenIdentity(res.locals);
    const doc = await exportVexForImage(deps, {
      imageRef: image.data,
      now: deps.now(),
      viewerTeam: identity.teamId,
    });
    res.status(200).json(doc);
  });

  router.use("/api/v1/vex", vexErrors(deps.maxBodyBytes));
  return router;
}

const requireJsonBody: RequestHandler = (req, res, next) => {
  if (req.is(["application/json", "+json"])) {
    next();
    return;
  }
  const sent = req.header("content-type") ?? "none";
  sendApiError(
    res,
    415,
    "unsupported_media_type",
    `send the VEX document as JSON with Content-Type: application/json (got ${sent.slice(0, 100)})`,
  );
};

/** Export is read-only: an upload token (its own team's images) or an audit token (every image) will do. */
function requireAnyToken(deps: { db: Db; now: () => Date }): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.header("authorization") ?? "");
    if (!match?.[1]) {
      sendApiError(
        res,
        401,
        "missing_token",
        "send Authorization: Bearer <token>; create one with `patchpilot token create`",
      );
      return;
    }
    const identity = await authenticateToken(deps.db, match[1], deps.now());
    if (!identity) {
      sendApiError(
        res,
        401,
        "invalid_token",
        "this token is unknown or revoked; create a new one with `patchpilot token create`",
      );
      return;
    }
    if (!identity.scopes.some((s) => s === "upload" || s === "audit")) {
      sendApiError(
        res,
        403,
        "wrong_scope",
        `this token may not read VEX (it has ${identity.scopes.join(", ") || "no scope"})`,
      );
      return;
    }
    res.locals.identity = identity;
    next();
  };
}

function apiOrigin(route: string, tokenId: string, requestId: unknown): Record<string, unknown> {
  return {
    source: "api",
    route,
    tokenId,
    ...(typeof requestId === "string" ? { requestId } : {}),
  };
}

/** User mistakes and body-parser failures become 4xx answers here; the rest goes on. */
function vexErrors(maxBodyBytes: number): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (err instanceof PatchpilotError && err.kind === "user") {
      sendApiError(res, err.status, err.code, err.message);
      return;
    }
    const type = typeof err === "object" && err !== null && "type" in err ? String(err.type) : "";
    if (type === "entity.parse.failed") {
      const detail = err instanceof Error ? err.message : "unreadable";
      sendApiError(
        res,
        400,
        "invalid_json",
        `the body is not valid JSON (${detail.slice(0, 200)}); send the VEX document as a JSON object`,
      );
      return;
    }
    if (type === "entity.too.large") {
      const kb = Math.floor(maxBodyBytes / 1024);
      sendApiError(
        res,
        413,
        "too_large",
        `the VEX document is larger than the ${kb} KiB limit; split it into several documents`,
      );
      return;
    }
    next(err);
  };
}
