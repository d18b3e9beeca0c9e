import type { RequestHandler } from "express";
import type { Db } from "../db/client.js";
import { authenticateToken, type TokenIdentity, type TokenScope } from "../services/upload-tokens.js";
import { sendApiError } from "./api-errors.js";

/**
 * Bearer-token check for /api routes, done before the body is read so an unauthenticated client
 * cannot make us buffer 50 MB. The identity is left in `res.locals.identity`.
 */
export function requireToken(deps: { db: Db; now: () => Date }, scope: TokenScope): RequestHandler {
  return async (req, res, next) => {
    const header = req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      sendApiError(
        res,
        401,
        "missing_token",
        "send Authorization: Bearer <token>; create one with `patchpilot token create --team ID`",
      );
      return;
    }
    try {
      const identity = await authenticateToken(deps.db, match[1], deps.now());
      if (!identity) {
        sendApiError(
          res,
          401,
          "invalid_token",
          "this token is unknown or revoked; create a new one with `patchpilot token create --team ID`",
        );
        return;
      }
      if (!identity.scopes.includes(scope)) {
        sendApiError(
          res,
          403,
          "wrong_scope",
          `this token may not be used here (it has ${identity.scopes.join(", ")}; this needs ${scope})`,
        );
        return;
      }
      res.locals.identity = identity;
      next();
    } catch (e) {
      next(e);
    }
  };
}

/** The identity `requireToken` authenticated. */
export function tokenIdentity(locals: Record<string, unknown>): TokenIdentity {
  const identity = locals.identity as TokenIdentity | undefined;
  if (!identity) throw new Error("requireToken must run before this handler");
  return identity;
}
