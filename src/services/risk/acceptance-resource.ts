import { eq } from "drizzle-orm";
import type { Db } from "../../db/client.js";
import { images } from "../../db/schema/index.js";
import type { RiskAcceptance, Tx } from "./valid-acceptance.js";

/**
 * What an audit row names for an acceptance (its id, the vulnerability, and the image or team),
 * and the team it concerns: its own, or its image's owner (null: an unowned image).
 */
export async function acceptanceResource(
  db: Db | Tx,
  row: Pick<RiskAcceptance, "id" | "vulnerabilityId" | "imageId" | "teamId">,
): Promise<{ resource: Record<string, string>; teamId: string | null }> {
  const [image] =
    row.imageId === null
      ? []
      : await db
          .select({ repository: images.repository, teamId: images.teamId })
          .from(images)
          .where(eq(images.id, row.imageId));
  return {
    resource: {
      acceptanceId: row.id,
      vulnerabilityId: row.vulnerabilityId,
      ...(image ? { image: image.repository, imageId: row.imageId ?? "" } : {}),
      ...(row.teamId === null ? {} : { team: row.teamId }),
    },
    teamId: row.teamId ?? image?.teamId ?? null,
  };
}
