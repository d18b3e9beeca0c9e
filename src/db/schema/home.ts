import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Who has opened the App Home tab, and when last: a state change refreshes the Home tab of
 * recent viewers only, never of someone who never opened it.
 */
export const homeViewers = pgTable(
  "home_viewers",
  {
    userId: text("user_id").primaryKey(),
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("home_viewers_opened_at_idx").on(t.openedAt)],
);
