import { createHash } from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "../../db/client.js";
import { insertIntents } from "../../db/outbox-repository.js";
import { images, riskAcceptances, teams } from "../../db/schema/index.js";

/**
 * The payload of a `notify.acceptance-expiring` / `notify.acceptance-expired` intent: one team's
 * acceptances of one run of the job, told in one message. (`acceptanceId`, one acceptance, is
 * what intents recorded before held; they are still delivered.)
 */
export const acceptanceNoticePayload = z.union([
  z.object({ acceptanceIds: z.array(z.uuid()).min(1) }),
  z.object({ acceptanceId: z.uuid() }).transform((p) => ({ acceptanceIds: [p.acceptanceId] })),
]);

/** What the team is told when an acceptance expires or is about to; the words are render/'s to choose. */
export type ExpiredAcceptanceNotice = {
  channel: string;
  teamId: string;
  vulnerabilityId: string;
  /** The image's repository, or null for an acceptance that covered every image of the team. */
  image: string | null;
  acceptedBy: string;
  acceptedByName: string | null;
  reason: string;
  /** When it expired, or (for a warning) will. */
  expiredAt: Date;
};

/**
 * Leaves one notice intent per team for the acceptances a run of the expiry (or warning) job
 * just marked, in its transaction: a day on which 40 acceptances expire is one message per team,
 * not 40. Acceptances of unowned images have no team to tell. The dedupe key is the set of
 * acceptances, so a run repeated on the same rows notifies once.
 */
export async function recordAcceptanceNotices(
  tx: Tx,
  kind: "notify.acceptance-expiring" | "notify.acceptance-expired",
  marked: ReadonlyArray<{ id: string; teamId: string | null }>,
): Promise<void> {
  const byTeam = new Map<string, string[]>();
  for (const m of marked)
    if (m.teamId !== null) byTeam.set(m.teamId, [...(byTeam.get(m.teamId) ?? []), m.id]);
  await insertIntents(
    tx,
    // In team order, as refreshHomesOf: concurrent runs insert keys in one order.
    [...byTeam.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, ids]) => {
        const sorted = [...ids].sort();
        const set = createHash("sha256").update(sorted.join(",")).digest("hex").slice(0, 24);
        return { kind, dedupeKey: `${kind}:${set}`, payload: { acceptanceIds: sorted } };
      }),
  );
}

/**
 * The data for the notices of these acceptances, read at delivery time, soonest expiry first.
 * Left out: revoked ones, and any with no team channel to tell (an unowned image).
 */
export async function acceptanceNotices(
  db: Db,
  acceptanceIds: readonly string[],
): Promise<ExpiredAcceptanceNotice[]> {
  const rows = await db
    .select({
      acceptance: riskAcceptances,
      image: images.repository,
      imageTeam: images.teamId,
    })
    .from(riskAcceptances)
    .leftJoin(images, eq(images.id, riskAcceptances.imageId))
    .where(inArray(riskAcceptances.id, [...acceptanceIds]));
  const teamIds = [...new Set(rows.map((r) => r.acceptance.teamId ?? r.imageTeam).filter((t) => t !== null))];
  const channels = new Map(
    teamIds.length === 0
      ? []
      : (
          await db
            .select({ id: teams.id, channel: teams.channel })
            .from(teams)
            .where(inArray(teams.id, teamIds))
        ).map((t) => [t.id, t.channel]),
  );
  const notices: ExpiredAcceptanceNotice[] = [];
  for (const row of rows) {
    const teamId = row.acceptance.teamId ?? row.imageTeam;
    const channel = teamId === null ? undefined : channels.get(teamId);
    if (row.acceptance.revokedAt !== null || row.acceptance.expiresAt === null || !teamId || !channel)
      continue;
    notices.push({
      channel,
      teamId,
      vulnerabilityId: row.acceptance.vulnerabilityId,
      image: row.image,
      acceptedBy: row.acceptance.acceptedBy,
      acceptedByName: row.acceptance.acceptedByName,
      reason: row.acceptance.reason,
      expiredAt: row.acceptance.expiresAt,
    });
  }
  return notices.sort(
    (a, b) =>
      a.expiredAt.getTime() - b.expiredAt.getTime() || a.vulnerabilityId.localeCompare(b.vulnerabilityId),
  );
}
