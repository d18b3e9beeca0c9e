import { index, integer, pgTable, serial, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { images, teams } from "./fleet.js";

/** `version` columns let a transition commit only if nobody moved the row first (compare-and-set). */
export const rollouts = pgTable(
  "rollouts",
  {
    id: serial("id").primaryKey(),
    imageId: uuid("image_id")
      .notNull()
      .references(() => images.id),
    teamId: text("team_id").references(() => teams.id),
    runningDigest: text("running_digest"),
    candidateDigest: text("candidate_digest"),
    state: text("state").notNull(),
    reason: text("reason"),
    requestedBy: text("requested_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    version: integer("version").notNull().default(0),
  },
  (t) => [index("rollouts_image_idx").on(t.imageId), index("rollouts_state_idx").on(t.state)],
);

export const rolloutStages = pgTable(
  "rollout_stages",
  {
    id: serial("id").primaryKey(),
    rolloutId: integer("rollout_id")
      .notNull()
      .references(() => rollouts.id),
    name: text("name").notNull(),
    position: integer("position").notNull(),
    state: text("state").notNull(),
    candidateDigest: text("candidate_digest"),
    dispatchId: text("dispatch_id").unique(),
    runId: text("run_id"),
    runUrl: text("run_url"),
    scheduledFor: timestamp("scheduled_for", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    version: integer("version").notNull().default(0),
  },
  (t) => [unique("rollout_stages_rollout_name_uq").on(t.rolloutId, t.name)],
);

export const approvals = pgTable(
  "approvals",
  {
    id: serial("id").primaryKey(),
    stageId: integer("stage_id")
      .notNull()
      .references(() => rolloutStages.id),
    userId: text("user_id").notNull(),
    userName: text("user_name"),
    decision: text("decision").notNull(),
    reason: text("reason"),
    candidateDigest: text("candidate_digest"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // One vote per person per stage per candidate: a replayed click cannot count twice.
  (t) => [unique("approvals_stage_user_digest_uq").on(t.stageId, t.userId, t.candidateDigest)],
);
