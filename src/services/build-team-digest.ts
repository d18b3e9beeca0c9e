import { inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { PatchpilotConfig } from "../config/file-schema.js";
import type { AcceptedRisk } from "../core/digest/accepted-risk.js";
import type { AwaitingRollout } from "../core/digest/awaiting-rollout.js";
import type { DigestPeriod } from "../core/digest/digest-period.js";
import { expiringAcceptances } from "../core/digest/expiring-acceptances.js";
import { type SeverityCounts, severityCounts } from "../core/digest/severity-counts.js";
import type { SlaBreach } from "../core/digest/sla-breach.js";
import type { TeamDigest } from "../core/digest/team-digest.js";
import type { UnownedImage } from "../core/digest/unowned-image.js";
import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { Db } from "../db/client.js";
import { images } from "../db/schema/index.js";
import { baseImageStatuses, baseImagesMoved, behindDays } from "./freshness/base-image-update.js";
import { meanTimeToRemediateByTeam } from "./posture/mean-time-to-remediate.js";
import { teamDigestPostures } from "./posture/team-digest-posture.js";
import type { UrgentFinding } from "./posture/urgent-findings.js";
import { openRolloutsByImage } from "./rollouts/rollout-progress.js";
import { rolloutsAwaitingByTeam, rolloutsShippedByTeam } from "./rollouts/rollouts-awaiting.js";
import { toTeamStatus, withRollouts } from "./status-views.js";

const WEEK_MS = 7 * 24 * 3600_000;

export type TeamDigestsQuery = {
  teamIds: readonly string[];
  /** null for an on-demand digest: "since last digest" is then the team's last one anywhere. */
  subscriptionId: string | null;
  period: DigestPeriod;
  now: Date;
  sla: SlaPolicy;
  unowned: UnownedImage[];
  chartAttached: boolean;
  /** Stage policies, for the rollouts awaiting approval; without it none are listed. */
  config?: PatchpilotConfig;
};

/** One team's digest for one period: `buildTeamDigests` of that team alone. */
export async function buildTeamDigest(
  db: Db,
  q: Omit<TeamDigestsQuery, "teamIds"> & { teamId: string },
): Promise<TeamDigest | null> {
  const { teamId, ...rest } = q;
  return (await buildTeamDigests(db, { ...rest, teamIds: [teamId] })).get(teamId) ?? null;
}

/**
 * The teams' digests for one period, keyed by team id (unknown teams are left out), from the
 * posture queries run once for all the teams. "Since last digest" means since this subscription
 * last posted for the team (a week before `now` for the first one).
 */
export async function buildTeamDigests(db: Db, q: TeamDigestsQuery): Promise<Map<string, TeamDigest>> {
  const teamIds = [...new Set(q.teamIds)];
  const out = new Map<string, TeamDigest>();
  if (teamIds.length === 0) return out;
  const ids = sql.param(teamIds);
  // "Since last digest" first (one small query); then every query at once, the posture pass too.
  const prevResult = await db.execute(sql`
    SELECT DISTINCT ON (team_id) team_id, open, extract(epoch FROM created_at) * 1000 AS at_ms
    FROM digest_runs
    WHERE team_id = ANY (${ids}::text[]) AND period_key <> ${q.period.key}
      AND (${q.subscriptionId}::uuid IS NULL OR subscription_id = ${q.subscriptionId}::uuid)
    ORDER BY team_id, created_at DESC`);
  const prevByTeam = new Map(
    prevResult.rows.map((raw) => {
      const prev = prevRow.parse(raw);
      return [prev.team_id, prev] as const;
    }),
  );
  const sinceByTeam = teamIds.map((teamId) => {
    const prev = prevByTeam.get(teamId);
    return { teamId, from: new Date(prev ? prev.at_ms : q.now.getTime() - WEEK_MS) };
  });
  // One walk over the teams' open findings (posture, urgent findings, "new since last"), split in
  // two halves that run at once, and everything else one query after another on a third
  // connection beside them: at most three connections of the pool, so a digest run never starves
  // the pool (its connect timeout) for other work.
  const side = async () => {
    const mttr = await meanTimeToRemediateByTeam(db, { teams: sinceByTeam, to: q.now });
    const acceptances = await teamAcceptances(db, teamIds, q.now);
    const shipped = await rolloutsShippedByTeam(db, { teams: sinceByTeam, to: q.now });
    const awaiting = q.config
      ? await rolloutsAwaitingByTeam({ db, config: q.config }, teamIds)
      : new Map<string, AwaitingRollout[]>();
    const imageIds = (
      await db.select({ id: images.id }).from(images).where(inArray(images.teamId, teamIds))
    ).map((i) => i.id);
    const rolloutsByImage = await openRolloutsByImage(db, imageIds);
    const baseStatuses = await baseImageStatuses(db, imageIds);
    return { mttr, acceptances, shipped, awaiting, rolloutsByImage, baseStatuses };
  };
  const [walked, { mttr, acceptances, shipped, awaiting, rolloutsByImage, baseStatuses }] = await Promise.all(
    [
      teamDigestPostures(db, {
        teams: sinceByTeam.map((t) => ({ teamId: t.teamId, since: t.from })),
        now: q.now,
        sla: q.sla,
        limit: 200,
        parallel: 2,
      }),
      side(),
    ],
  );
  const known = teamIds.filter((id) => walked.has(id));
  for (const teamId of known) {
    const team = walked.get(teamId);
    if (!team) continue;
    const prev = prevByTeam.get(teamId);
    const withRollout = withRollouts(toTeamStatus(team.posture), rolloutsByImage);
    const status = {
      ...withRollout,
      images: withRollout.images.map((i) => ({
        ...i,
        baseImageBehindDays: behindDays(baseStatuses.get(i.imageId), q.now),
      })),
    };
    const m = mttr.get(teamId);
    const fixed: SeverityCounts = severityCounts(m?.fixed);
    out.set(teamId, {
      ...status,
      topImages: status.images,
      periodLabel: q.period.label,
      generatedAt: q.now,
      previousOpen: prev ? severityCounts(prev.open) : null,
      newSinceLast: team.newSinceLast,
      rolloutsAwaitingApproval: awaiting.get(teamId) ?? [],
      slaBreaches: toSlaBreaches(team.urgent, q.now),
      baseImagesMoved: baseImagesMoved(status.images, baseStatuses),
      // Patches are the rollouts done this period; what they fixed is what the scans saw fixed.
      shipped: {
        count: shipped.get(teamId) ?? 0,
        fixed,
        meanTimeToRemediateCriticalMs: m?.meanMs.critical ?? null,
      },
      expiringAcceptances: expiringAcceptances(acceptances.get(teamId) ?? [], q.now),
      unownedImages: q.unowned,
      chartAttached: q.chartAttached,
    });
  }
  return out;
}

const prevRow = z.object({
  team_id: z.string(),
  open: z.record(z.string(), z.number()),
  at_ms: z.coerce.number(),
});

/** The team's status with each image's open rollout, if any (`withImageRollouts`, rollouts read once). */
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
  team_id: z.string(),
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

/** Per team, the acceptances in force that name it or one of its images. */
async function teamAcceptances(
  db: Db,
  teamIds: readonly string[],
  now: Date,
): Promise<Map<string, AcceptedRisk[]>> {
  const r = await db.execute(sql`
    SELECT t.team_id, ra.vulnerability_id, i.id AS image_id, i.config_id, i.repository,
      extract(epoch FROM ra.created_at) * 1000 AS created_ms, extract(epoch FROM ra.expires_at) * 1000 AS until_ms,
      ra.reason, ra.accepted_by, ra.accepted_by_name
    FROM risk_acceptances ra LEFT JOIN images i ON i.id = ra.image_id
    CROSS JOIN LATERAL (SELECT ra.team_id UNION SELECT i.team_id) t(team_id)
    WHERE ra.revoked_at IS NULL AND ra.status = 'accepted' AND ra.expires_at > ${now.toISOString()}::timestamptz
      AND t.team_id = ANY (${sql.param([...teamIds])}::text[])`);
  const out = new Map<string, AcceptedRisk[]>();
  for (const raw of r.rows) {
    const a = acceptanceRow.parse(raw);
    const list = out.get(a.team_id) ?? [];
    list.push({
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
    });
    out.set(a.team_id, list);
  }
  return out;
}
