import type { PatchpilotConfig } from "../../src/config/file-schema.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import type { GroupMembership } from "../../src/services/group-membership.js";
import type { RolloutDeps } from "../../src/services/rollouts/rollout-deps.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { createTestDatabase } from "./databases.js";

/** A config image of team payments, built and deployed by its GitHub workflows. */
export const paymentsImage = (id: string) => ({
  id,
  repository: `ghcr.io/acme/${id}`,
  team: "payments",
  github: { repo: `acme/${id}`, workflows: { build: "build.yml", deploy: "deploy.yml", rollback: "rb.yml" } },
});

/** Slack user groups as a fixed map: group id → member user ids. */
export function staticMembership(groups: Record<string, string[]>): GroupMembership {
  return {
    members: async (g) => new Set(groups[g] ?? []),
    groupsOf: async (u, ids) => ids.filter((g) => groups[g]?.includes(u)),
  };
}

/**
 * A fresh database with `config` synced, and the rollout services' dependencies on it (no queue:
 * intents are committed and left pending). `close()` drops the database.
 */
export async function openRolloutServices(
  config: PatchpilotConfig,
  opts: { now: () => Date; membership: GroupMembership },
): Promise<{ app: Database; deps: RolloutDeps; url: string; close(): Promise<void> }> {
  const database = await createTestDatabase();
  const app = createDatabase(database.url, { max: 4 });
  await syncConfig(app.db, config, (r) => normalizeImageRef(r).repository);
  const deps: RolloutDeps = {
    db: app.db,
    config,
    now: opts.now,
    membership: opts.membership,
    afterCommit: async () => {},
  };
  return {
    app,
    deps,
    url: database.url,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}
