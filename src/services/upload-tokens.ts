import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { userError } from "../core/errors.js";
import type { Db } from "../db/client.js";
import { teams, uploadTokens } from "../db/schema/index.js";

export type TokenScope = "upload" | "audit";
export type TokenIdentity = { tokenId: string; teamId: string | null; name: string; scopes: TokenScope[] };

const PREFIX = "ppt_";

/** Only this hash is stored: a database leak does not leak working tokens. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createToken(
  db: Db,
  opts: { teamId: string | null; name: string; scopes: TokenScope[] },
): Promise<{ id: string; token: string }> {
  if (opts.teamId !== null) {
    const known = await db.select({ id: teams.id }).from(teams);
    if (!known.some((t) => t.id === opts.teamId)) {
      throw userError(
        "unknown_team",
        `unknown team "${opts.teamId}" (known: ${known.map((t) => t.id).join(", ") || "none — add teams to patchpilot.yaml and start patchpilot once"})`,
      );
    }
  }
  const token = `${PREFIX}${randomBytes(32).toString("base64url")}`;
  const [row] = await db
    .insert(uploadTokens)
    .values({ teamId: opts.teamId, name: opts.name, tokenHash: hashToken(token), scopes: opts.scopes })
    .returning({ id: uploadTokens.id });
  if (!row) throw new Error("token insert returned nothing");
  return { id: row.id, token };
}

export async function revokeToken(db: Db, id: string, now: Date): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(id))
    throw userError("bad_token_id", `"${id}" is not a token id (a UUID, as printed by token list)`);
  const r = await db
    .update(uploadTokens)
    .set({ revokedAt: now })
    .where(and(eq(uploadTokens.id, id), isNull(uploadTokens.revokedAt)))
    .returning({ id: uploadTokens.id });
  return r.length > 0;
}

export async function listTokens(db: Db) {
  return db
    .select({
      id: uploadTokens.id,
      teamId: uploadTokens.teamId,
      name: uploadTokens.name,
      scopes: uploadTokens.scopes,
      createdAt: uploadTokens.createdAt,
      lastUsedAt: uploadTokens.lastUsedAt,
      revokedAt: uploadTokens.revokedAt,
    })
    .from(uploadTokens)
    .orderBy(uploadTokens.createdAt);
}

/** The identity behind a bearer token, or null for an unknown or revoked one. */
export async function authenticateToken(db: Db, token: string, now: Date): Promise<TokenIdentity | null> {
  if (!token.startsWith(PREFIX) || token.length > 200) return null;
  const [row] = await db
    .select()
    .from(uploadTokens)
    .where(and(eq(uploadTokens.tokenHash, hashToken(token)), isNull(uploadTokens.revokedAt)));
  if (!row) return null;
  // "Last used" to the minute is enough, and saves a write on every upload.
  if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await db.update(uploadTokens).set({ lastUsedAt: now }).where(eq(uploadTokens.id, row.id));
  }
  const scopes = row.scopes.filter((s): s is TokenScope => s === "upload" || s === "audit");
  return { tokenId: row.id, teamId: row.teamId, name: row.name, scopes };
}
