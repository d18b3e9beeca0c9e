import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Append-only hash chain: each row's hash covers the previous row's hash and a canonical JSON of
 * the row. The application's role may only SELECT and INSERT here (see the roles migration).
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    seq: bigint("seq", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    actorId: text("actor_id").notNull(),
    actorName: text("actor_name"),
    action: text("action").notNull(),
    outcome: text("outcome").notNull(),
    origin: jsonb("origin").notNull(),
    resource: jsonb("resource").notNull(),
    payload: jsonb("payload").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull().unique(),
  },
  // `/patch audit <rollout>` reads one rollout's events.
  (t) => [index("audit_events_rollout_idx").on(sql`(${t.resource}->>'rollout')`)],
);
