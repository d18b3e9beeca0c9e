import { sql } from "drizzle-orm";
import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** Teams mirror the config file; kept in the database so history survives a rename in YAML. */
export const teams = pgTable("teams", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  channel: text("channel").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * An image is a canonical repository (docker.io/library/node, not node). Images seen in scans
 * but absent from config have no team: they are "unowned" and surfaced, never dropped.
 */
export const images = pgTable(
  "images",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    repository: text("repository").notNull().unique(),
    configId: text("config_id").unique(),
    teamId: text("team_id").references(() => teams.id),
    baseImage: text("base_image"),
    /** The newest scan defines the image's open findings; kept here so posture needs no DISTINCT ON. */
    latestScanId: uuid("latest_scan_id"),
    latestDigest: text("latest_digest"),
    latestScanAt: timestamp("latest_scan_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("images_team_idx").on(t.teamId)],
);
