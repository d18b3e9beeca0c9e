import { desc, gte, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { homeViewers } from "./schema/index.js";

/** Remembers that `userId` opened the App Home tab at `at` (the latest opening wins). */
export async function recordHomeViewer(db: Db, userId: string, at: Date): Promise<void> {
  await db
    .insert(homeViewers)
    .values({ userId, openedAt: at })
    .onConflictDoUpdate({
      target: homeViewers.userId,
      set: { openedAt: sql`greatest(${homeViewers.openedAt}, excluded.opened_at)` },
    });
}

/** Viewers who opened the Home tab at or after `since`, most recent first, one page at a time. */
export async function recentHomeViewers(
  db: Db,
  since: Date,
  page: { limit: number; offset: number },
): Promise<string[]> {
  const rows = await db
    .select({ userId: homeViewers.userId })
    .from(homeViewers)
    .where(gte(homeViewers.openedAt, since))
    .orderBy(desc(homeViewers.openedAt), homeViewers.userId)
    .limit(page.limit)
    .offset(page.offset);
  return rows.map((r) => r.userId);
}
