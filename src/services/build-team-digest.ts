import { sql } from "drizzle-orm";
import { z } from "zod";
import type { PatchpilotConfig } from "../config/file-schema.js";
import type { AcceptedRisk } from "../core/digest/accepted-risk.js";
import type { DigestPeriod } from "../core/digest/digest-period.js";
import { expiringAcceptances } from "../core/digest/expiring-acceptances.js";
import { type SeverityCounts, severityCounts } from "../core/digest/severity-counts.js";
import type { SlaBreach } from "../core/digest/sla-breach.js";
import type { TeamDigest } from "../core/digest/team-digest.js";
import type { UnownedImage } from "../core/digest/unowned-image.js";
import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { Db } from "../db/client.js";
import { meanTimeToRemediate } from "./posture/mean-time-to-remediate.js";
import { teamPosture } from "./posture/team-posture.js";
import { type UrgentFinding, urgentFindings } from "./posture/urgent-findings.js";
import { rolloutsAwaitingForTeam, rolloutsShippedCount } from "./rollouts/rollouts-awaiting.js";
import { toTeamStatus, withImageRollouts } from "./status-views.js";

const WEEK_MS = 7 * 24 * 3600_000;
const severity = z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]);

/**
 * One team's digest for one period, from the posture queries. "Since last digest" means since
 * this subscription last posted for the team (a week before `now` for the first one).
 */
export async function buildTeamDigest(
  db: Db,
  q: {
    teamId: string;
    /** null for an on-demand digest: "since last digest" is then the team's last one anywhere. */
    subscriptionId: string | null;
    period: DigestPeriod;
    now: Date;
    sla: SlaPolicy;
    unowned: UnownedImage[];
    chartAttached: boolean;
    /** Stage policies, for the rollouts awaiting approval; without it none are listed. */
    config?: PatchpilotConfig;
  },
): Promise<TeamDigest | null> {
  const posture = await teamPosture(db, { teamId: q.teamId, now: q.now, sla: q.sla });
  if (!posture) return null;
  const prevRow = (
    await db.execute(sql`
      SELECT open, extract(epoch FROM created_at) * 1000 AS at_ms FROM digest_runs
      WHERE team_id = ${q.teamId} AND period_key <> ${q.period.key}
        AND (${q.subscriptionId}::uuid IS NULL OR subscription_id = ${q.subscriptionId}::uuid)
      ORDER BY created_at DESC LIMIT 1`)
  ).rows[0];
  const prev = prevRow
    ? z.object({ open: z.record(z.string(), z.number()), at_ms: z.coerce.number() }).parse(prevRow)
    : null;
  const since = new Date(prev ? prev.at_ms : q.now.getTime() - WEEK_MS);

  const [urgent, mttr, newRows, acceptances, status, awaiting, shippedCount] = await Promise.all([
    urgentFindings(db, { scope: { kind: "team", teamId: q.teamId }, now: q.now, sla: q.sla, limit: 200 }),
    meanTimeToRemediate(db, { teamId: q.teamId, from: since, to: q.now }),
    db.execute(sql`
      SELECT f.severity, count(DISTINCT (f.vulnerability_id, f.package_name))::int AS n
      FROM images i JOIN findings f ON f.scan_id = i.latest_scan_id
      JOIN finding_lifecycle l ON l.image_id = i.id AND l.vulnerability_id = f.vulnerability_id AND l.package_name = f.package_name
      WHERE i.team_id = ${q.teamId} AND l.first_seen_at > ${since.toISOString()}::timestamptz
      GROUP BY f.severity`),
    teamAcceptances(db, q.teamId, q.now),
    withImageRollouts(db, toTeamStatus(posture)),
    q.config ? rolloutsAwaitingForTeam({ db, config: q.config }, q.teamId) : [],
    rolloutsShippedCount(db, { teamId: q.teamId, from: since, to: q.now }),
  ]);
  const newSinceLast = severityCounts();
  for (const r of newRows.rows) {
    const row = z.object({ severity, n: z.number() }).parse(r);
    newSinceLast[row.severity] = row.n;
  }
  const fixed: SeverityCounts = severityCounts(mttr.fixed);
  return {
    ...status,
    topImages: status.images,
    periodLabel: q.period.label,
    generatedAt: q.now,
    previousOpen: prev ? severityCounts(prev.open) : null,
    newSinceLast,
    rolloutsAwaitingApproval: awaiting,
    slaBreaches: toSlaBreaches(urgent, q.now),
    baseImagesMoved: [],
    // Patches are the rollouts done this period; what they fixed is what the scans saw fixed.
    shipped: { count: shippedCount, fixed, meanTimeToRemediateCriticalMs: mttr.meanMs.critical },
    expiringAcceptances: expiringAcceptances(acceptances, q.now),
    unownedImages: q.unowned,
    chartAttached: q.chartAttached,
  };
}

/** The breached ones of `urgentFindings`, as the digest and App Home list them. */
export function toSlaBreaches(urgent: readonly UrgentFinding[], now: Date): SlaBreach[] {
  return urgent
    .filter((u) => u.state === "breached")
    .map((u) => ({
      vulnerabilityId: u.vulnerabilityId,
      title: u.title,
      packageName: u.packageName,
      severity: u.severity,
      knownExploited: u.knownExploited,
      fixable: u.fixable,
      image: u.image,
      dueAt: u.dueAt,
      daysPastDue: Math.max(0, Math.floor((now.getTime() - u.dueAt.getTime()) / 86_400_000)),
    }));
}

const acceptanceRow = z.object({
  vulnerability_id: z.string(),
  image_id: z.string().nullable(),
  config_id: z.string().nullable(),
  repository: z.string().nullable(),
  created_ms: z.coerce.number(),
  until_ms: z.coerce.number().nullable(),
  reason: z.string(),
  accepted_by: z.string(),
  accepted_by_name: z.string().nullable(),
});

async function teamAcceptances(db: Db, teamId: string, now: Date): Promise<AcceptedRisk[]> {
  const r = await db.execute(sql`
    SELECT ra.vulnerability_id, i.id AS image_id, i.config_id, i.repository,
      extract(epoch FROM ra.created_at) * 1000 AS created_ms, extract(epoch FROM ra.expires_at) * 1000 AS until_ms,
      ra.reason, ra.accepted_by, ra.accepted_by_name
    FROM risk_acceptances ra LEFT JOIN images i ON i.id = ra.image_id
    WHERE ra.revoked_at IS NULL AND ra.status = 'accepted' AND ra.expires_at > ${now.toISOString()}::timestamptz
      AND (ra.team_id = ${teamId} OR i.team_id = ${teamId})`);
  return r.rows.map((raw) => {
    const a = acceptanceRow.parse(raw);
    return {
      vulnerabilityId: a.vulnerability_id,
      image:
        a.image_id && a.repository
          ? { imageId: a.image_id, name: a.config_id ?? a.repository, repository: a.repository }
          : null,
      acceptedAt: new Date(a.created_ms),
      until: a.until_ms === null ? null : new Date(a.until_ms),
      revokedAt: null,
      reason: a.reason,
      acceptedBy: a.accepted_by,
      acceptedByName: a.accepted_by_name,
    };
  });
}
