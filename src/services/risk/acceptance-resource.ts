import { eq } from "drizzle-orm";
import type { Db } from "../../db/client.js";
import { images } from "../../db/schema/index.js";
import type { RiskAcceptance, Tx } from "./valid-acceptance.js";

/** What an audit row names for an acceptance: its id, the vulnerability, and the image or team. */
export async function acceptanceResource(
  db: Db | Tx,
  row: Pick<RiskAcceptance, "id" | "vulnerabilityId" | "imageId" | "teamId">,
): Promise<Record<string, string>> {
  const [image] =
    row.imageId === null
      ? []
      : await db.select({ repository: images.repository }).from(images).where(eq(images.id, row.imageId));
  return {
    acceptanceId: row.id,
    vulnerabilityId: row.vulnerabilityId,
    ...(image ? { image: image.repository, imageId: row.imageId ?? "" } : {}),
    ...(row.teamId === null ? {} : { team: row.teamId }),
  };
}
