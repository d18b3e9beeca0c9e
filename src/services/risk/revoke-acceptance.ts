import { eq } from "drizzle-orm";
import { userError } from "../../core/errors.js";
import { appendAuditEvent } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { riskAcceptances } from "../../db/schema/index.js";
import { refreshHomesOf } from "../home-refresh-intent.js";
import { acceptanceResource } from "./acceptance-resource.js";
import type { RiskAcceptance } from "./valid-acceptance.js";

export type RevokeAcceptanceInput = {
  id: string;
  actor: { id: string; name?: string };
  origin: Record<string, unknown>;
  reason: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ends an acceptance (or an imported VEX decision) now: its findings count as open again. The
 * update and its audit event commit together; the row is locked so two revocations cannot both win.
 */
export async function revokeAcceptance(
  deps: { db: Db; now: () => Date },
  input: RevokeAcceptanceInput,
): Promise<RiskAcceptance> {
  const now = deps.now();
  if (!UUID.test(input.id)) {
    throw userError("bad_acceptance_id", `"${input.id.slice(0, 60)}" is not an acceptance id (a UUID)`, 400);
  }
  const reason = input.reason.trim();
  if (reason === "") throw userError("reason_required", "say why the acceptance is revoked", 400);

  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(riskAcceptances)
      .where(eq(riskAcceptances.id, input.id))
      .for("update");
    if (!row) throw userError("unknown_acceptance", `no acceptance has the id ${input.id}`, 404);
    if (row.revokedAt !== null) {
      throw userError(
        "already_revoked",
        `acceptance ${row.id} of ${row.vulnerabilityId} was already revoked at ${row.revokedAt.toISOString()}`,
        409,
      );
    }
    if (row.expiresAt !== null && row.expiresAt.getTime() <= now.getTime()) {
      throw userError(
        "already_expired",
        `acceptance ${row.id} of ${row.vulnerabilityId} already expired at ${row.expiresAt.toISOString()}`,
        409,
      );
    }
    const [revoked] = await tx
      .update(riskAcceptances)
      .set({ revokedAt: now })
      .where(eq(riskAcceptances.id, row.id))
      .returning();
    if (!revoked) throw new Error("risk acceptance update returned nothing");
    const about = await acceptanceResource(tx, row);
    await refreshHomesOf(tx, [about.teamId], now);
    await appendAuditEvent(tx, {
      at: now,
      actor: { id: input.actor.id, name: input.actor.name ?? null },
      action: "risk.revoked",
      outcome: "ok",
      origin: input.origin,
      resource: about.resource,
      payload: { reason, source: row.source, status: row.status },
    });
    return revoked;
  });
}
