import type { PatchpilotConfig } from "../config/file-schema.js";
import type { Db } from "../db/client.js";
import { images, teams } from "../db/schema/index.js";

/**
 * The config file is the source of truth for teams and configured images; the database keeps
 * them so scans, rollouts and the audit trail can refer to them. Idempotent: safe on every start.
 */
export async function syncConfig(
  db: Db,
  config: PatchpilotConfig,
  canonicalRepository: (ref: string) => string,
): Promise<void> {
  await db.transaction(async (tx) => {
    for (const t of config.teams) {
      await tx
        .insert(teams)
        .values({ id: t.id, name: t.name ?? t.id, channel: t.channel })
        .onConflictDoUpdate({
          target: teams.id,
          set: { name: t.name ?? t.id, channel: t.channel, updatedAt: new Date() },
        });
    }
    for (const img of config.images) {
      const repository = canonicalRepository(img.repository);
      await tx
        .insert(images)
        .values({ repository, configId: img.id, teamId: img.team, baseImage: img.baseImage ?? null })
        .onConflictDoUpdate({
          target: images.repository,
          set: { configId: img.id, teamId: img.team, baseImage: img.baseImage ?? null },
        });
    }
  });
}
