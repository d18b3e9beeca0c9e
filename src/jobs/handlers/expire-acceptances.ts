import { and, asc, eq, isNull, lte } from "drizzle-orm";
import { appendAuditEvent } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { insertIntent } from "../../db/outbox-repository.js";
import { riskAcceptances } from "../../db/schema/index.js";
import { refreshHomesOf } from "../../services/home-refresh-intent.js";
import { acceptanceResource } from "../../services/risk/acceptance-resource.js";

const BATCH = 200;

const due = (now: Date) =>
  and(
    lte(riskAcceptances.expiresAt, now),
    isNull(riskAcceptances.revokedAt),
    isNull(riskAcceptances.expiryNotifiedAt),
  );

/**
 * Acceptances past their expiry: the finding already counts as open again (validity is read
 * from `expires_at`); this records the expiry in the audit trail and leaves an intent to tell
 * the team. One transaction per acceptance, on a row no other worker holds, and the intent's
 * dedupe key is the acceptance, so overlapping runs notify once.
 */
export function expireAcceptances(deps: { db: Db; now: () => Date }): () => Promise<void> {
  return async () => {
    const now = deps.now();
    for (;;) {
      const candidates = await deps.db
        .select({ id: riskAcceptances.id })
        .from(riskAcceptances)
        .where(due(now))
        .orderBy(asc(riskAcceptances.expiresAt))
        .limit(BATCH);
      let expired = 0;
      for (const { id } of candidates) if (await expireOne(deps.db, id, now)) expired++;
      // A short batch was the last one; a batch held entirely by another worker is its work.
      if (candidates.length < BATCH || expired === 0) return;
    }
  };
}

async function expireOne(db: Db, id: string, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(riskAcceptances)
      .where(and(eq(riskAcceptances.id, id), due(now)))
      .for("update", { skipLocked: true });
    if (!row) return false;
    await tx.update(riskAcceptances).set({ expiryNotifiedAt: now }).where(eq(riskAcceptances.id, id));
    await insertIntent(tx, {
      kind: "notify.acceptance-expired",
      dedupeKey: `acceptance-expired:${id}`,
      payload: { acceptanceId: id },
    });
    const about = await acceptanceResource(tx, row);
    await refreshHomesOf(tx, [about.teamId], now);
    await appendAuditEvent(tx, {
      at: now,
      actor: { id: "system", name: "patchpilot" },
      action: "risk.acceptance_expired",
      outcome: "ok",
      origin: { source: "system", job: "expire-acceptances" },
      resource: about.resource,
      payload: {
        expiresAt: row.expiresAt?.toISOString() ?? null,
        acceptedBy: row.acceptedBy,
        reason: row.reason,
      },
    });
    return true;
  });
}
