import { and, eq, sql } from "drizzle-orm";
import type { PatchpilotConfig } from "../config/file-schema.js";
import type { Db } from "../db/client.js";
import { digestSubscriptions } from "../db/schema/index.js";

export type DigestSubscription = typeof digestSubscriptions.$inferSelect;

/**
 * Subscriptions from patchpilot.yaml are mirrored into the table (source "config") so one
 * scheduler serves both kinds; ones removed from the file are removed here. Subscriptions made
 * in Slack (source "slack") are left alone.
 */
export async function syncConfigSubscriptions(db: Db, config: PatchpilotConfig): Promise<void> {
  await db.transaction(async (tx) => {
    const existing = await tx
      .select()
      .from(digestSubscriptions)
      .where(eq(digestSubscriptions.source, "config"));
    const wanted = config.digests.map((d) => ({ ...d, teams: [...d.teams].sort() }));
    const same = (a: { channel: string; cron: string; timezone: string; teams: string[] }, b: typeof a) =>
      a.channel === b.channel &&
      a.cron === b.cron &&
      a.timezone === b.timezone &&
      a.teams.join() === b.teams.join();
    for (const row of existing) {
      if (!wanted.some((w) => same(w, row)))
        await tx.delete(digestSubscriptions).where(eq(digestSubscriptions.id, row.id));
    }
    for (const w of wanted) {
      if (existing.some((row) => same(w, row))) continue;
      await tx
        .insert(digestSubscriptions)
        .values({ channel: w.channel, cron: w.cron, timezone: w.timezone, teams: w.teams, source: "config" })
        .onConflictDoNothing();
    }
  });
}

export async function listSubscriptions(db: Db, channel?: string): Promise<DigestSubscription[]> {
  const q = db.select().from(digestSubscriptions);
  return channel ? q.where(eq(digestSubscriptions.channel, channel)) : q;
}

export async function findSubscription(db: Db, id: string): Promise<DigestSubscription | null> {
  return (await db.select().from(digestSubscriptions).where(eq(digestSubscriptions.id, id)))[0] ?? null;
}

export async function addSlackSubscription(
  db: Db,
  s: { channel: string; cron: string; timezone: string; teams: string[]; createdBy: string },
): Promise<{ subscription: DigestSubscription; created: boolean }> {
  const teams = [...s.teams].sort();
  const inserted = await db
    .insert(digestSubscriptions)
    .values({
      channel: s.channel,
      cron: s.cron,
      timezone: s.timezone,
      teams,
      source: "slack",
      createdBy: s.createdBy,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return { subscription: inserted[0], created: true };
  const existing = await db
    .select()
    .from(digestSubscriptions)
    .where(
      and(
        eq(digestSubscriptions.channel, s.channel),
        eq(digestSubscriptions.cron, s.cron),
        eq(digestSubscriptions.timezone, s.timezone),
        sql`${digestSubscriptions.teams} = ${sql.param(teams)}::text[]`,
      ),
    );
  if (!existing[0]) throw new Error("subscription vanished");
  return { subscription: existing[0], created: false };
}

/** Removes this channel's Slack-made subscriptions; config ones stay (the file owns them). */
export async function removeSlackSubscriptions(db: Db, channel: string): Promise<DigestSubscription[]> {
  return db
    .delete(digestSubscriptions)
    .where(and(eq(digestSubscriptions.channel, channel), eq(digestSubscriptions.source, "slack")))
    .returning();
}
