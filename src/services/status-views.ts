import { sql } from "drizzle-orm";
import { z } from "zod";
import type { PatchpilotConfig } from "../config/file-schema.js";
import type { AcceptedRisk } from "../core/digest/accepted-risk.js";
import type { ImageRiskRow } from "../core/digest/image-risk-row.js";
import type { ImageStatus } from "../core/digest/image-status.js";
import type { TeamStatus } from "../core/digest/team-status.js";
import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { Db } from "../db/client.js";
import { baseImageStatuses, toBaseImageUpdate } from "./freshness/base-image-update.js";
import type { ImageAcceptance } from "./posture/image-acceptances.js";
import { imagePosture } from "./posture/image-posture.js";
import type { ImageRiskPosture } from "./posture/image-risk-posture.js";
import { teamPosture } from "./posture/team-posture.js";
import type { TeamPostureSummary } from "./posture/team-totals.js";
import { openRolloutsByImage, rolloutsInFlight } from "./rollouts/rollout-progress.js";

/** What `/patch status <x>` may name: a config image id, an image repository, or a team id. */
export type StatusTarget = { kind: "image"; imageId: string } | { kind: "team"; teamId: string };

const imageRow = z.object({ id: z.string(), config_id: z.string().nullable(), repository: z.string() });

/**
 * Finds what the user typed, or the closest names to suggest: config ids and team ids first,
 * then repositories (with or without registry, e.g. `acme/api` or `ghcr.io/acme/api`).
 */
export async function resolveStatusTarget(
  db: Db,
  typed: string,
  teamIds: readonly string[],
): Promise<StatusTarget | { kind: "unknown"; candidates: string[] }> {
  if (teamIds.includes(typed)) return { kind: "team", teamId: typed };
  const rows = z
    .array(imageRow)
    .parse((await db.execute(sql`SELECT id, config_id, repository FROM images`)).rows);
  const t = typed.toLowerCase().replace(/[:@].*$/, "");
  const hit =
    rows.find((r) => r.config_id === typed) ??
    rows.find((r) => r.repository === t) ??
    rows.find((r) => r.repository.endsWith(`/${t}`));
  if (hit) return { kind: "image", imageId: hit.id };
  return { kind: "unknown", candidates: [...teamIds, ...rows.map((r) => r.config_id ?? r.repository)] };
}

export function toAcceptedRisk(a: ImageAcceptance): AcceptedRisk {
  return {
    vulnerabilityId: a.vulnerabilityId,
    image: a.image,
    acceptedAt: a.acceptedAt,
    until: a.until,
    revokedAt: null,
    reason: a.reason,
    acceptedBy: a.acceptedBy,
    acceptedByName: a.acceptedByName,
  };
}

export async function imageStatusView(
  db: Db,
  q: {
    imageId: string;
    now: Date;
    sla: SlaPolicy;
    baseImageOf: (configId: string | null) => string | null;
    /** Stage policies for the rollout in flight; without it no rollout is shown. */
    config?: PatchpilotConfig;
  },
): Promise<ImageStatus | null> {
  const p = await imagePosture(db, { imageId: q.imageId, now: q.now, sla: q.sla, listLimit: 5 });
  if (!p) return null;
  const breach = p.urgent.find((u) => u.state === "breached") ?? null;
  const base = q.baseImageOf(p.image.configId);
  return {
    generatedAt: q.now,
    image: {
      imageId: p.image.imageId,
      name: p.image.name,
      repository: p.image.repository,
      digest: p.image.digest,
    },
    team: p.team,
    open: p.open,
    fixable: p.fixable,
    breached: p.breached,
    firstBreach: breach ? { vulnerabilityId: breach.vulnerabilityId, dueAt: breach.dueAt } : null,
    baseImage: base
      ? toBaseImageUpdate(base, (await baseImageStatuses(db, [p.image.imageId])).get(p.image.imageId))
      : null,
    rollouts: q.config ? await rolloutsInFlight({ db, config: q.config }, p.image.imageId, q.now) : [],
    accepted: p.accepted.map(toAcceptedRisk),
    lastScan: p.lastScan,
  };
}

export function toImageRiskRow(i: ImageRiskPosture): ImageRiskRow {
  return {
    imageId: i.imageId,
    knownExploited: i.knownExploited,
    breachedCritical: i.breachedCritical,
    critical: i.critical,
    breachedHigh: i.breachedHigh,
    high: i.high,
    fixable: i.fixable,
    medium: i.medium,
    name: i.name,
    repository: i.repository,
    latestDigest: i.latestDigest,
    baseImage: i.baseImage,
    baseImageBehindDays: null,
    lastScanAt: i.lastScanAt,
    rollout: null,
  };
}

export function toTeamStatus(p: TeamPostureSummary): TeamStatus {
  return {
    team: p.team,
    open: p.open,
    fixable: p.fixable,
    breached: p.breached,
    dueSoon: p.dueSoon,
    dueSoonDays: p.dueSoonDays,
    acceptedCount: p.acceptedCount,
    scannedImages: p.scannedImages,
    lastScanAt: p.lastScanAt,
    images: p.images.map(toImageRiskRow),
  };
}

/** The team's status with each image's rollout in flight, if any. */
export async function withImageRollouts(db: Db, s: TeamStatus): Promise<TeamStatus> {
  const open = await openRolloutsByImage(
    db,
    s.images.map((i) => i.imageId),
  );
  return withRollouts(s, open);
}

/** The team's image lines with the open rollout of each, from rollouts already loaded. */
export function withRollouts(
  s: TeamStatus,
  open: Map<string, NonNullable<ImageRiskRow["rollout"]>>,
): TeamStatus {
  return { ...s, images: s.images.map((i) => ({ ...i, rollout: open.get(i.imageId) ?? null })) };
}

export async function teamStatusView(
  db: Db,
  q: { teamId: string; now: Date; sla: SlaPolicy },
): Promise<TeamStatus | null> {
  const p = await teamPosture(db, q);
  return p ? withImageRollouts(db, toTeamStatus(p)) : null;
}
