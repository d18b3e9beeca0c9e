import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client.js";
import { riskAcceptances } from "../../db/schema/index.js";

export type RiskAcceptance = typeof riskAcceptances.$inferSelect;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * Statuses that take a finding out of open counts and SLA breaches while the row is valid;
 * `affected` and `under_investigation` are recorded and exported but leave the finding open.
 */
export const SUPPRESSING_STATUSES = ["accepted", "not_affected", "fixed"] as const;

/** Sources of a person's decision, as opposed to an imported VEX statement. */
export const PERSON_SOURCES = ["slack", "cli"] as const;

/**
 * An acceptance or VEX decision is in force while it is neither revoked nor past its expiry
 * (VEX decisions have none). Posture, digests and the VEX export all use this one rule.
 */
export function validAcceptanceAt(now: Date): SQL {
  const at = now.toISOString();
  return sql`(${riskAcceptances.revokedAt} IS NULL AND (${riskAcceptances.expiresAt} IS NULL OR ${riskAcceptances.expiresAt} > ${at}::timestamptz))`;
}

export function isAcceptanceValid(row: Pick<RiskAcceptance, "revokedAt" | "expiresAt">, now: Date): boolean {
  return row.revokedAt === null && (row.expiresAt === null || row.expiresAt.getTime() > now.getTime());
}
