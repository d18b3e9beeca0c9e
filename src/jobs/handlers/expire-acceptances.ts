import { and, asc, inArray, isNull, lte } from "drizzle-orm";
import type { AuditEventInput } from "../../core/audit/audit-event.js";
import { appendAuditEvents } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { riskAcceptances } from "../../db/schema/index.js";
import { refreshHomesOf } from "../../services/home-refresh-intent.js";
import { acceptanceResource } from "../../services/risk/acceptance-resource.js";
import { recordAcceptanceNotices } from "../../services/risk/expired-acceptance-notice.js";

const BATCH = 200;

const due = (now: Date) =>
  and(
    lte(riskAcceptances.expiresAt, now),
    isNull(riskAcceptances.revokedAt),
    isNull(riskAcceptances.expiryNotifiedAt),
  );

/**
 * Acceptances past their expiry: the finding already counts as open again (validity is read
 * from `expires_at`); this records each expiry in the audit trail and leaves one intent per team
 * to tell it, with its Home tabs refreshed. One transaction per batch, on rows no other worker
 * holds (skipped, not waited for), so overlapping runs notify once.
 */
export function expireAcceptances(deps: { db: Db; now: () => Date }): () => Promise<void> {
  return async () => {
    const now = deps.now();
    for (;;) {
      const taken = await deps.db.transaction(async (tx) => {
        const rows = await tx
          .select()
          .from(riskAcceptances)
          .where(due(now))
          .orderBy(asc(riskAcceptances.expiresAt))
          .limit(BATCH)
          .for("update", { skipLocked: true });
        if (rows.length === 0) return 0;
        await tx
          .update(riskAcceptances)
          .set({ expiryNotifiedAt: now })
          .where(
            inArray(
              riskAcceptances.id,
              rows.map((r) => r.id),
            ),
          );
        const marked: Array<{ id: string; teamId: string | null }> = [];
        const audits: AuditEventInput[] = [];
        for (const row of rows) {
          const about = await acceptanceResource(tx, row);
          marked.push({ id: row.id, teamId: about.teamId });
          audits.push({
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
        }
        await recordAcceptanceNotices(tx, "notify.acceptance-expired", marked);
        await refreshHomesOf(
          tx,
          marked.map((m) => m.teamId),
          now,
        );
        await appendAuditEvents(tx, audits);
        return rows.length;
      });
      // A short batch was the last one (rows another worker holds are its work).
      if (taken < BATCH) return;
    }
  };
}
