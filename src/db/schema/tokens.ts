import { sql } from "drizzle-orm";
import { pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { teams } from "./fleet.js";

/** Scan-upload and audit tokens. Only a SHA-256 of the token is stored; it is shown once. */
export const uploadTokens = pgTable("upload_tokens", {
  id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
  teamId: text("team_id").references(() => teams.id),
  name: text("name").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  scopes: text("scopes").array().notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});
