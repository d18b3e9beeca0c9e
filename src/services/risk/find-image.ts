import { eq, or } from "drizzle-orm";
import { closestMatch } from "../../core/closest-match.js";
import { userError } from "../../core/errors.js";
import { parseImageRef } from "../../core/scan/normalize-image-ref.js";
import type { Db } from "../../db/client.js";
import { images } from "../../db/schema/index.js";
import type { Tx } from "./valid-acceptance.js";

export type ImageRow = typeof images.$inferSelect;

/**
 * A known image named by its id in patchpilot.yaml or by any reference to its repository
 * (`ghcr.io/acme/api:1.2`, `node@sha256:…`). The config id wins: `api` is also a valid
 * reference, to `docker.io/library/api`.
 */
export async function findImage(db: Db | Tx, ref: string): Promise<ImageRow> {
  const text = ref.trim();
  if (text === "" || text.length > 512) {
    throw userError(
      "bad_image",
      "name the image by its repository (e.g. ghcr.io/acme/api) or by its id in patchpilot.yaml",
      400,
    );
  }
  const repository = parseImageRef(text)?.repository ?? null;
  const rows = await db
    .select()
    .from(images)
    .where(
      repository === null
        ? eq(images.configId, text)
        : or(eq(images.configId, text), eq(images.repository, repository)),
    );
  const hit = rows.find((r) => r.configId === text) ?? rows[0];
  if (hit) return hit;

  const known = await db.select({ repository: images.repository, configId: images.configId }).from(images);
  const names = known.flatMap((k) => (k.configId === null ? [k.repository] : [k.configId, k.repository]));
  const suggestion = closestMatch(repository ?? text, names) ?? closestMatch(text, names);
  const shown = repository !== null && repository !== text ? ` (${repository})` : "";
  throw userError(
    "unknown_image",
    `unknown image "${text}"${shown}: no image has that repository or config id. ${
      suggestion ? `Did you mean ${suggestion}? ` : ""
    }An image is known once it is in patchpilot.yaml or a scan of it was uploaded.`,
    404,
  );
}
