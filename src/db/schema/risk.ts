import { sql } from "drizzle-orm";
import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { images, teams } from "./fleet.js";

/**
 * A governed decision that a finding need not be fixed: a person's risk acceptance (with an
 * expiry) or an imported VEX statement. Either names one image or all images of a team.
 */
export const riskAcceptances = pgTable(
  "risk_acceptances",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    vulnerabilityId: text("vulnerability_id").notNull(),
    imageId: uuid("image_id").references(() => images.id),
    teamId: text("team_id").references(() => teams.id),
    source: text("source").notNull(),
    status: text("status").notNull(),
    justification: text("justification"),
    reason: text("reason").notNull(),
    acceptedBy: text("accepted_by").notNull(),
    acceptedByName: text("accepted_by_name"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    expiryNotifiedAt: timestamp("expiry_notified_at", { withTimezone: true }),
    /** When the team was warned the acceptance is about to expire; once per acceptance. */
    expiryWarnedAt: timestamp("expiry_warned_at", { withTimezone: true }),
  },
  (t) => [
    index("risk_acceptances_vuln_idx").on(t.vulnerabilityId),
    index("risk_acceptances_expiry_idx").on(t.expiresAt),
  ],
);
