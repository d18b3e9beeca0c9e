import { sql } from "drizzle-orm";
import { jsonb, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";

/** Channel digest subscriptions: from the config file (read-only in Slack) or made with /patch subscribe. */
export const digestSubscriptions = pgTable(
  "digest_subscriptions",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    channel: text("channel").notNull(),
    cron: text("cron").notNull(),
    timezone: text("timezone").notNull(),
    teams: text("teams").array().notNull(),
    source: text("source").notNull(),
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("digest_subscriptions_uq").on(t.channel, t.cron, t.timezone, t.teams)],
);

/** What the bot posted, by a stable key (kind + subject), so it can be updated in place. */
export const slackMessages = pgTable("slack_messages", {
  key: text("key").primaryKey(),
  channel: text("channel").notNull(),
  ts: text("ts").notNull(),
  threadTs: text("thread_ts"),
  postedAt: timestamp("posted_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One row per digest posted: (subscription, period, team) is unique, so two workers or a retry
 * can never post a period twice; the open counts are the baseline of the next digest's deltas.
 */
export const digestRuns = pgTable(
  "digest_runs",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    subscriptionId: uuid("subscription_id")
      .notNull()
      .references(() => digestSubscriptions.id, { onDelete: "cascade" }),
    periodKey: text("period_key").notNull(),
    teamId: text("team_id").notNull(),
    open: jsonb("open").$type<Record<string, number>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("digest_runs_uq").on(t.subscriptionId, t.periodKey, t.teamId)],
);
