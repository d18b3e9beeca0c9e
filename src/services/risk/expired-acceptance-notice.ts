import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client.js";
import { images, riskAcceptances, teams } from "../../db/schema/index.js";

/** The payload of a `notify.acceptance-expired` outbox intent. */
export const acceptanceExpiredPayload = z.object({ acceptanceId: z.uuid() });

/** What the team is told when an acceptance expires; the words are render/'s to choose. */
export type ExpiredAcceptanceNotice = {
  channel: string;
  teamId: string;
  vulnerabilityId: string;
  /** The image's repository, or null for an acceptance that covered every image of the team. */
  image: string | null;
  acceptedBy: string;
  acceptedByName: string | null;
  reason: string;
  expiredAt: Date;
};

/**
 * The data for the expiry notification of one acceptance, read at delivery time. Null when
 * there is no team to tell (an unowned image) or the acceptance was revoked meanwhile.
 */
export async function expiredAcceptanceNotice(
  db: Db,
  acceptanceId: string,
): Promise<ExpiredAcceptanceNotice | null> {
  const [row] = await db
    .select({ acceptance: riskAcceptances, image: images.repository, imageTeam: images.teamId })
    .from(riskAcceptances)
    .leftJoin(images, eq(images.id, riskAcceptances.imageId))
    .where(eq(riskAcceptances.id, acceptanceId));
  if (!row || row.acceptance.revokedAt !== null || row.acceptance.expiresAt === null) return null;
  const teamId = row.acceptance.teamId ?? row.imageTeam;
  if (teamId === null) return null;
  const [team] = await db.select({ channel: teams.channel }).from(teams).where(eq(teams.id, teamId));
  if (!team) return null;
  return {
    channel: team.channel,
    teamId,
    vulnerabilityId: row.acceptance.vulnerabilityId,
    image: row.image,
    acceptedBy: row.acceptance.acceptedBy,
    acceptedByName: row.acceptance.acceptedByName,
    reason: row.acceptance.reason,
    expiredAt: row.acceptance.expiresAt,
  };
}
