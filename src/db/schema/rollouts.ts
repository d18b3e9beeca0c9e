import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { StageHealth } from "../../core/rollout/stage-health.js";
import { images, teams } from "./fleet.js";

/** Rollout states in which the image is being changed: at most one such rollout per image. */
export const OPEN_ROLLOUT_STATES = ["active", "halted", "rolling_back"] as const;

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
    /** manual (/patch rollout), patch-now (a button), auto-critical, base-image. */
    trigger: text("trigger").notNull().default("manual"),
    /** Who started it: a Slack user id, or `system`. */
    requestedBy: text("requested_by").notNull(),
    requestedByName: text("requested_by_name"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    version: integer("version").notNull().default(0),
  },
  (t) => [
    index("rollouts_image_idx").on(t.imageId),
    index("rollouts_state_idx").on(t.state),
    // A double "Patch now" click cannot start two rollouts of one image.
    uniqueIndex("rollouts_one_open_per_image_uq")
      .on(t.imageId)
      .where(sql`state IN ('active', 'halted', 'rolling_back')`),
  ],
);

export const rolloutStages = pgTable(
  "rollout_stages",
  {
    id: serial("id").primaryKey(),
    rolloutId: integer("rollout_id")
      .notNull()
      .references(() => rollouts.id),
    name: text("name").notNull(),
    /** build (the rebuild stage), deploy, or rollback. */
    kind: text("kind").notNull().default("deploy"),
    position: integer("position").notNull(),
    state: text("state").notNull(),
    candidateDigest: text("candidate_digest"),
    /** The digest the workflow is given: the candidate, or for a rollback the running digest. */
    targetDigest: text("target_digest"),
    dispatchId: text("dispatch_id").unique(),
    /** Approval rounds: asking again after an expiry or rejection starts a new one. */
    round: integer("round").notNull().default(0),
    /** Dispatches so far (a retry dispatches again with a new dispatch id). */
    attempt: integer("attempt").notNull().default(0),
    runId: text("run_id"),
    runUrl: text("run_url"),
    runStatus: text("run_status"),
    runConclusion: text("run_conclusion"),
    requestedBy: text("requested_by"),
    requestedAt: timestamp("requested_at", { withTimezone: true }),
    /** Who rejected, cancelled or retried it last, and why. */
    decidedBy: text("decided_by"),
    decidedByName: text("decided_by_name"),
    decisionReason: text("decision_reason"),
    /** Approved through the emergency lane (skips the maintenance window, never a freeze). */
    emergency: boolean("emergency").notNull().default(false),
    /** Why an approved stage is not dispatched yet: the window it waits for, or a freeze. */
    blockedReason: text("blocked_reason"),
    scheduledFor: timestamp("scheduled_for", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    dispatchedAt: timestamp("dispatched_at", { withTimezone: true }),
    /** The health gate of a deployed stage: baking, then its result with the numbers seen. */
    health: jsonb("health").$type<StageHealth>(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    version: integer("version").notNull().default(0),
  },
  (t) => [
    unique("rollout_stages_rollout_name_uq").on(t.rolloutId, t.name),
    index("rollout_stages_state_idx").on(t.state),
    index("rollout_stages_run_idx").on(t.runId),
  ],
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
    /** The stage's approval round the vote was cast in; only the current round counts. */
    round: integer("round").notNull().default(0),
    /** The policy's groups the approver belonged to when voting (required-group quorum). */
    groups: jsonb("groups").$type<string[]>().notNull().default([]),
    /** An override of the new-critical block, given by the override group with a reason. */
    override: boolean("override").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // One vote per person per stage, candidate and round: a replayed click cannot count twice.
  (t) => [unique("approvals_stage_user_digest_round_uq").on(t.stageId, t.userId, t.candidateDigest, t.round)],
);

/** GitHub deliveries already handled: a redelivery (same X-GitHub-Delivery) is acknowledged, not applied. */
export const githubDeliveries = pgTable("github_deliveries", {
  deliveryId: text("delivery_id").primaryKey(),
  event: text("event").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Freezes set from Slack (`/patch freeze`); the config file's freezes apply as well. */
export const runtimeFreezes = pgTable(
  "runtime_freezes",
  {
    id: serial("id").primaryKey(),
    /** An environment name, or `all`. */
    environment: text("environment").notNull(),
    reason: text("reason").notNull(),
    startedBy: text("started_by").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    endedBy: text("ended_by"),
    endedAt: timestamp("ended_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("runtime_freezes_one_active_uq").on(t.environment).where(sql`ended_at IS NULL`)],
);
