import type { ErrorRequestHandler, Response } from "express";
import type { Logger } from "../adapters/logger.js";
import { PatchpilotError } from "../core/errors.js";

/** Every API error has this shape: a stable code and a sentence that says what to do. */
export function sendApiError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

export function tooLargeMessage(limitBytes: number): string {
  const mb = (limitBytes / 1024 / 1024).toFixed(0);
  return `the body is larger than the ${mb} MB limit (scans.maxUploadBytes in patchpilot.yaml)`;
}

export function sendTooLarge(res: Response, limitBytes: number): void {
  sendApiError(res, 413, "too_large", tooLargeMessage(limitBytes));
}

/**
 * The last handler on /api: user mistakes keep their status and message; body-parser's own
 * errors become clear 4xx answers; anything else is our bug, logged with a reference.
 */
export function apiErrorHandler(logger: Logger, limitBytes: () => number): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (err instanceof PatchpilotError && err.kind === "user") {
      sendApiError(res, err.status, err.code, err.message);
      return;
    }
    const type = typeof err === "object" && err !== null && "type" in err ? String(err.type) : "";
    if (type === "entity.too.large") {
      sendTooLarge(res, limitBytes());
      return;
    }
    if (type === "request.aborted" || type === "request.size.invalid") {
      sendApiError(
        res,
        400,
        "incomplete_body",
        "the request body ended before its declared length; send it again",
      );
      return;
    }
    if (type === "encoding.unsupported" || type === "charset.unsupported") {
      sendApiError(res, 415, "unsupported_encoding", "send the body as UTF-8 JSON, uncompressed or gzip");
      return;
    }
    const reference = `ERR-${Date.now().toString(36).toUpperCase()}`;
    logger.error({ err, reference }, "API request failed");
    sendApiError(
      res,
      500,
      "internal",
      `something went wrong on our side; nothing was stored. Reference: ${reference}`,
    );
  };
}
