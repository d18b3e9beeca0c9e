import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "./client.js";
import { approvals, images, OPEN_ROLLOUT_STATES, rolloutStages, rollouts } from "./schema/index.js";

export type { Tx };
export type RolloutRow = typeof rollouts.$inferSelect;
export type StageRow = typeof rolloutStages.$inferSelect;
export type ApprovalRow = typeof approvals.$inferSelect;
export type LoadedRollout = { rollout: RolloutRow; stages: StageRow[]; approvals: ApprovalRow[] };

/**
 * A rollout with its stages and approvals. With `lock`, the rollout row is locked until the
 * transaction ends: every decision about one rollout takes this lock first, so concurrent clicks,
 * webhooks and dispatches are applied one after another and never on a stale read. The rollout is
 * read first and its stages and votes after it, so they are at least as new as its `version`.
 */
export async function loadRollout(
  db: Db | Tx,
  id: number,
  opts: { lock?: boolean } = {},
): Promise<LoadedRollout | null> {
  const base = db.select().from(rollouts).where(eq(rollouts.id, id));
  const rollout = (opts.lock ? await base.for("update") : await base)[0];
  if (!rollout) return null;
  const [stages, votes] = await Promise.all([
    db
      .select()
      .from(rolloutStages)
      .where(eq(rolloutStages.rolloutId, id))
      .orderBy(asc(rolloutStages.position)),
    db
      .select()
      .from(approvals)
      .where(
        inArray(
          approvals.stageId,
          db.select({ id: rolloutStages.id }).from(rolloutStages).where(eq(rolloutStages.rolloutId, id)),
        ),
      )
      .orderBy(asc(approvals.id)),
  ]);
  return { rollout, stages, approvals: votes };
}

/** The image a rollout deploys, as the audit trail and the policy name it. */
export type RolloutImage = { repository: string; configId: string | null };

/**
 * Locks the rollout row until the transaction ends (see `loadRollout`) and reads it with its
 * image. `known` is the same rollout read before the transaction: it is reused when the locked
 * row's version is still its version, since every change to a rollout's stages or votes bumps
 * the rollout's version in the same transaction (rollout-tx.ts); otherwise it is read again. So
 * `rollouts`, `rollout_stages` and `approvals` are written only through `inRolloutTx`: a write
 * that left the version as it was would let a later decision act on the read from before it.
 */
export async function lockRollout(
  tx: Tx,
  id: number,
  known?: LoadedRollout | null,
): Promise<{ loaded: LoadedRollout; image: RolloutImage | null } | null> {
  const [row] = await tx
    .select({ version: rollouts.version, repository: images.repository, configId: images.configId })
    .from(rollouts)
    .leftJoin(images, eq(images.id, rollouts.imageId))
    .where(eq(rollouts.id, id))
    .for("update", { of: rollouts });
  if (!row) return null;
  const image = row.repository === null ? null : { repository: row.repository, configId: row.configId };
  if (known && known.rollout.id === id && known.rollout.version === row.version)
    return { loaded: known, image };
  const loaded = await loadRollout(tx, id);
  return loaded ? { loaded, image } : null;
}

/** The open rollout of an image (active, halted or rolling back), if any. */
export async function findOpenRollout(db: Db | Tx, imageId: string): Promise<RolloutRow | null> {
  const rows = await db
    .select()
    .from(rollouts)
    .where(and(eq(rollouts.imageId, imageId), inArray(rollouts.state, [...OPEN_ROLLOUT_STATES])));
  return rows[0] ?? null;
}

/** The rollout a stage belongs to, found by its workflow run id or dispatch id. */
export async function findStageByRun(
  db: Db | Tx,
  by: { runId?: string | undefined; dispatchId?: string | undefined },
): Promise<{ stageId: number; rolloutId: number } | null> {
  const conditions = [
    ...(by.runId ? [eq(rolloutStages.runId, by.runId)] : []),
    ...(by.dispatchId ? [eq(rolloutStages.dispatchId, by.dispatchId)] : []),
  ];
  if (conditions.length === 0) return null;
  for (const c of conditions) {
    const rows = await db
      .select({ stageId: rolloutStages.id, rolloutId: rolloutStages.rolloutId })
      .from(rolloutStages)
      .where(c);
    if (rows[0]) return rows[0];
  }
  return null;
}

export async function updateStage(tx: Tx, id: number, patch: Partial<StageRow>, now: Date): Promise<void> {
  await tx
    .update(rolloutStages)
    .set({ ...patch, updatedAt: now, version: sql`${rolloutStages.version} + 1` })
    .where(eq(rolloutStages.id, id));
}

/** Records the rollout's (derived) state and bumps its version: the card renders each version once. */
export async function touchRollout(
  tx: Tx,
  id: number,
  patch: Partial<RolloutRow>,
  now: Date,
): Promise<number> {
  const rows = await tx
    .update(rollouts)
    .set({ ...patch, updatedAt: now, version: sql`${rollouts.version} + 1` })
    .where(eq(rollouts.id, id))
    .returning({ version: rollouts.version });
  return rows[0]?.version ?? 0;
}
