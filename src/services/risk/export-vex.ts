import { createHash } from "node:crypto";
import { and, asc, eq, or } from "drizzle-orm";
import { userError } from "../../core/errors.js";
import { exportOpenVex, type OpenVexDocument } from "../../core/vex/export-open-vex.js";
import type { Db } from "../../db/client.js";
import { riskAcceptances } from "../../db/schema/index.js";
import { findImage, type ImageRow } from "./find-image.js";
import { toOpenVexStatement } from "./to-open-vex-statement.js";
import { validAcceptanceAt } from "./valid-acceptance.js";

export const VEX_AUTHOR = "patchpilot";

/**
 * The image's acceptances and imported VEX decisions in force at `now`, as an OpenVEX v0.2.0
 * document about the image's latest digest. Statements are ordered by vulnerability, then
 * time, so a consumer that lets later statements override earlier ones reads the newest
 * decision last. The same decisions give the same `@id`.
 *
 * `viewerTeam` is the team of the token asking: another team's image is refused.
 */
export async function exportVexForImage(
  deps: { db: Db },
  input: { imageRef: string; now: Date; viewerTeam?: string | null },
): Promise<OpenVexDocument> {
  const image = await findImage(deps.db, input.imageRef);
  const viewer = input.viewerTeam ?? null;
  if (viewer !== null && image.teamId !== null && image.teamId !== viewer) {
    throw userError(
      "forbidden_image",
      `${image.repository} is owned by team ${image.teamId}; this token belongs to team ${viewer}. Use a token of team ${image.teamId} or an audit token.`,
      403,
    );
  }
  const rows = await deps.db
    .select()
    .from(riskAcceptances)
    .where(
      and(
        image.teamId === null
          ? eq(riskAcceptances.imageId, image.id)
          : or(eq(riskAcceptances.imageId, image.id), eq(riskAcceptances.teamId, image.teamId)),
        validAcceptanceAt(input.now),
      ),
    )
    .orderBy(asc(riskAcceptances.vulnerabilityId), asc(riskAcceptances.createdAt), asc(riskAcceptances.id));

  const product = imagePurl(image);
  const statements = rows.flatMap((row) => toOpenVexStatement(row, product) ?? []);
  const [first, ...rest] = statements;
  if (first === undefined) {
    throw userError(
      "nothing_to_export",
      `${image.repository} has no risk acceptance or VEX decision in force, so there is nothing to export (an OpenVEX document needs at least one statement)`,
      404,
    );
  }
  const hash = createHash("sha256")
    .update(JSON.stringify([product, statements]))
    .digest("hex");
  return exportOpenVex({
    id: `urn:patchpilot:vex:${hash}`,
    author: VEX_AUTHOR,
    timestamp: input.now.toISOString(),
    statements: [first, ...rest],
  });
}

/** `pkg:oci/<name>@<digest>?repository_url=<repository>`, the purl scanners match images on. */
export function imagePurl(image: Pick<ImageRow, "repository" | "latestDigest">): string {
  const name = image.repository.split("/").at(-1) ?? image.repository;
  const version = image.latestDigest === null ? "" : `@${encodeURIComponent(image.latestDigest)}`;
  return `pkg:oci/${encodeURIComponent(name)}${version}?repository_url=${image.repository}`;
}
