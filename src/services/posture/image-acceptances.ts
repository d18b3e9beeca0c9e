import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Severity } from "../../core/scan/normalized-report.js";
import type { Db } from "../../db/client.js";
import { riskAcceptances as ra } from "../../db/schema/index.js";
import { suppressingAcceptanceSql } from "./accepted-ids-sql.js";
import { epochMs, msDate } from "./epoch-ms.js";

/**
 * A risk acceptance or VEX statement in force that covers findings of an image's latest scan:
 * what "accepted until …" shows. Shaped like core/digest's `AcceptedRisk`.
 */
export type ImageAcceptance = {
  acceptanceId: string;
  /** The id as accepted: the finding's own or one of its aliases. */
  vulnerabilityId: string;
  /** null: accepted for every image of the team. */
  image: { imageId: string; name: string; repository: string } | null;
  status: "accepted" | "not_affected" | "fixed";
  source: string;
  acceptedAt: Date;
  /** null: no expiry (VEX). */
  until: Date | null;
  revokedAt: null;
  reason: string;
  acceptedBy: string;
  acceptedByName: string | null;
  /** The findings of the latest scan it covers. */
  findings: { vulnerabilityId: string; packageName: string; severity: Severity }[];
};

const rowSchema = z.object({
  id: z.string(),
  vulnerability_id: z.string(),
  for_image: z.boolean(),
  image_id: z.string(),
  config_id: z.string().nullable(),
  repository: z.string(),
  status: z.enum(["accepted", "not_affected", "fixed"]),
  source: z.string(),
  created_at: msDate,
  expires_at: msDate.nullable(),
  reason: z.string(),
  accepted_by: z.string(),
  accepted_by_name: z.string().nullable(),
  finding_vulnerability_id: z.string(),
  package_name: z.string(),
  severity: z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]),
});

/** Acceptances in force at `now` that cover the image's latest findings; the soonest to expire first. */
export async function imageAcceptances(
  db: Db,
  { imageId, now }: { imageId: string; now: Date },
): Promise<ImageAcceptance[]> {
  const result = await db.execute(sql`
    SELECT ${ra.id} AS id, ${ra.vulnerabilityId} AS vulnerability_id, ${ra.imageId} IS NOT NULL AS for_image,
      i.id AS image_id, i.config_id, i.repository, ${ra.status} AS status, ${ra.source} AS source,
      ${epochMs(sql`${ra.createdAt}`)} AS created_at, ${epochMs(sql`${ra.expiresAt}`)} AS expires_at, ${ra.reason} AS reason,
      ${ra.acceptedBy} AS accepted_by, ${ra.acceptedByName} AS accepted_by_name,
      f.vulnerability_id AS finding_vulnerability_id, f.package_name, f.severity
    FROM images i
    JOIN risk_acceptances ON ${ra.imageId} = i.id OR ${ra.teamId} = i.team_id
    JOIN findings f ON f.scan_id = i.latest_scan_id
      AND (f.vulnerability_id = ${ra.vulnerabilityId} OR ${ra.vulnerabilityId} = ANY (f.aliases))
    WHERE i.id = ${imageId}::uuid AND ${suppressingAcceptanceSql(now)}
    ORDER BY ${ra.expiresAt} NULLS LAST, ${ra.vulnerabilityId} COLLATE "C", ${ra.id},
      f.package_name COLLATE "C", f.vulnerability_id COLLATE "C"`);
  const byId = new Map<string, ImageAcceptance>();
  for (const raw of result.rows) {
    const r = rowSchema.parse(raw);
    const finding = {
      vulnerabilityId: r.finding_vulnerability_id,
      packageName: r.package_name,
      severity: r.severity,
    };
    const seen = byId.get(r.id);
    if (seen) {
      seen.findings.push(finding);
      continue;
    }
    byId.set(r.id, {
      acceptanceId: r.id,
      vulnerabilityId: r.vulnerability_id,
      image: r.for_image
        ? { imageId: r.image_id, name: r.config_id ?? r.repository, repository: r.repository }
        : null,
      status: r.status,
      source: r.source,
      acceptedAt: r.created_at,
      until: r.expires_at,
      revokedAt: null,
      reason: r.reason,
      acceptedBy: r.accepted_by,
      acceptedByName: r.accepted_by_name,
      findings: [finding],
    });
  }
  return [...byId.values()];
}
