import { eq } from "drizzle-orm";
import { closestMatch } from "../../core/closest-match.js";
import { userError } from "../../core/errors.js";
import type { Db } from "../../db/client.js";
import { images } from "../../db/schema/index.js";
import { resolveStatusTarget } from "../status-views.js";

/**
 * What `/patch accept` acts on. `ref` is what `acceptRisk` and a later re-check take (an image's
 * config id or repository, or a team id); `teamId` decides who may accept (null: nobody owns it).
 */
export type AcceptTarget =
  | { kind: "image"; ref: string; label: string; teamId: string | null }
  | { kind: "team"; ref: string; label: string; teamId: string };

/** The image or team the user typed, as `/patch status` reads it, or a user error with the closest name. */
export async function resolveAcceptTarget(
  db: Db,
  typed: string,
  teamIds: readonly string[],
): Promise<AcceptTarget> {
  const found = await resolveStatusTarget(db, typed, teamIds);
  if (found.kind === "team") {
    return {
      kind: "team",
      ref: found.teamId,
      label: `every image of team ${found.teamId}`,
      teamId: found.teamId,
    };
  }
  if (found.kind === "image") {
    const [row] = await db.select().from(images).where(eq(images.id, found.imageId));
    if (row) {
      const name = row.configId ?? row.repository;
      return { kind: "image", ref: name, label: name, teamId: row.teamId };
    }
  }
  const candidates = found.kind === "unknown" ? found.candidates : [];
  const best = closestMatch(typed, candidates);
  throw userError(
    "unknown_target",
    `No image or team is called \`${typed.slice(0, 100).replaceAll("`", "")}\`.${best ? ` Did you mean ${best}?` : ""} Name an image (as in /patch status) or a team.`,
    404,
  );
}
