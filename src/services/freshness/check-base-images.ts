import { and, desc, eq, inArray, sql } from "drizzle-orm";
import pLimit from "p-limit";
import { z } from "zod";
import type { Logger } from "../../adapters/logger.js";
import type { RegistryClient } from "../../adapters/registry/registry-client.js";
import { RegistryError } from "../../adapters/registry/registry-error.js";
import type { ConfigImage } from "../../config/config-lookup.js";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import { type SeverityCounts, totalOf } from "../../core/digest/severity-counts.js";
import {
  attributeFindings,
  type BaseVersion,
  driftState,
  findBuiltOn,
  fixedByBump,
  type LayeredFinding,
} from "../../core/freshness/base-image-drift.js";
import { parseImageRef } from "../../core/scan/normalize-image-ref.js";
import type { Severity } from "../../core/scan/normalized-report.js";
import { appendAuditEvents } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { insertIntent } from "../../db/outbox-repository.js";
import { baseImageVersions, findings, imageBaseStatus, images, scans } from "../../db/schema/index.js";
import { acceptedIdsSql, isSuppressedSql } from "../posture/accepted-ids-sql.js";

export type FreshnessDeps = {
  db: Db;
  config: PatchpilotConfig;
  registry: RegistryClient;
  now: () => Date;
  afterCommit: (outboxIds: number[]) => Promise<void>;
  logger?: Logger;
};

export type CheckOutcome =
  | { image: string; state: "current" | "behind" | "unknown"; moved: boolean }
  | { image: string; state: "error"; message: string }
  | { image: string; state: "skipped"; message: string };

const ORIGIN = { source: "system", job: "check-base-images" };
const short = (digest: string | null) => (digest === null ? "unknown" : `${digest.slice(0, 19)}…`);

/**
 * The freshness job: for every configured image with a base image, resolves the base tag in its
 * registry, records what it points to, and judges whether the image (its latest scan's layers) is
 * built on it. When the base moved past the image, the move is recorded and audited once, with
 * how many of the image's findings come from the base and, when the new base's own scan is known,
 * how many a bump would fix; then the image's `onBaseImageDrift` decides: notify the team, or open
 * a rollout. Registry errors are recorded on the image's status (the next run retries).
 */
export async function checkBaseImages(deps: FreshnessDeps): Promise<CheckOutcome[]> {
  const limit = pLimit(4);
  const withBase = deps.config.images.filter((i) => i.baseImage !== undefined);
  // One registry look per base tag and platform per run, however many images share it.
  const releases = new Map<string, Promise<string>>();
  // An image no longer watched (its baseImage removed) keeps no drift in status, digests or metrics.
  const watched = withBase.map((i) => i.id);
  await deps.db.execute(sql`
    DELETE FROM image_base_status s USING images i
    WHERE i.id = s.image_id AND (i.config_id IS NULL OR NOT (i.config_id = ANY (${sql.param(watched)}::text[])))`);
  return Promise.all(withBase.map((image) => limit(() => checkImage(deps, image, releases))));
}

type BaseKey = { repository: string; tag: string; platform: string };

/**
 * What the base tag points to now, recorded in `base_image_versions`; returns its digest. A HEAD
 * request says the digest; only a release not seen before is read in full (index, manifest,
 * config), so a registry counting pulls (Docker Hub) sees one manifest GET per new release.
 */
async function recordCurrentRelease(deps: FreshnessDeps, key: BaseKey, now: Date): Promise<string> {
  const ref = `${key.repository}:${key.tag}`;
  const { digest } = await deps.registry.resolve(ref);
  const known = await deps.db
    .update(baseImageVersions)
    .set({ lastSeenAt: now })
    .where(
      and(
        eq(baseImageVersions.repository, key.repository),
        eq(baseImageVersions.tag, key.tag),
        eq(baseImageVersions.platform, key.platform),
        eq(baseImageVersions.digest, digest),
      ),
    )
    .returning({ digest: baseImageVersions.digest });
  if (known.length > 0) return digest;
  const seen = await deps.registry.inspect(ref, key.platform);
  await deps.db
    .insert(baseImageVersions)
    .values({
      ...key,
      digest: seen.digest,
      manifestDigest: seen.manifestDigest,
      diffIds: seen.diffIds,
      builtAt: seen.created,
      firstSeenAt: now,
      lastSeenAt: now,
    })
    .onConflictDoUpdate({
      target: [
        baseImageVersions.repository,
        baseImageVersions.tag,
        baseImageVersions.platform,
        baseImageVersions.digest,
      ],
      set: { lastSeenAt: now },
    });
  return seen.digest;
}

async function checkImage(
  deps: FreshnessDeps,
  image: ConfigImage,
  releases: Map<string, Promise<string>>,
): Promise<CheckOutcome> {
  const ref = image.baseImage ?? "";
  const parsed = parseImageRef(ref);
  if (parsed === null)
    return { image: image.id, state: "skipped", message: `"${ref}" is not an image reference` };
  if (parsed.tag === null && parsed.digest !== null)
    return { image: image.id, state: "skipped", message: `${ref} is pinned by digest; it cannot move` };
  const [row] = await deps.db.select().from(images).where(eq(images.configId, image.id));
  if (!row) return { image: image.id, state: "skipped", message: "not synced from the configuration yet" };
  const now = deps.now();
  // `node:22@sha256:…` (Renovate's pinning): the tag is what moves; the pin is what was built.
  const key: BaseKey = {
    repository: parsed.repository,
    tag: parsed.tag ?? "latest",
    platform: image.platform,
  };
  const memo = `${key.repository}:${key.tag}|${key.platform}`;
  let digest: string;
  try {
    const pending = releases.get(memo) ?? recordCurrentRelease(deps, key, now);
    releases.set(memo, pending);
    digest = await pending;
  } catch (e) {
    const message = e instanceof RegistryError ? e.message : `could not read ${ref}: ${String(e)}`;
    deps.logger?.warn({ image: image.id, base: ref, err: message }, "base image check failed");
    await deps.db
      .insert(imageBaseStatus)
      .values({ imageId: row.id, baseRef: ref, state: "unknown", checkedAt: now, error: message })
      .onConflictDoUpdate({
        target: imageBaseStatus.imageId,
        set: { checkedAt: now, error: message, baseRef: ref },
      });
    return { image: image.id, state: "error", message };
  }

  const versions = await deps.db
    .select()
    .from(baseImageVersions)
    .where(
      and(
        eq(baseImageVersions.repository, key.repository),
        eq(baseImageVersions.tag, key.tag),
        eq(baseImageVersions.platform, key.platform),
      ),
    );
  const current = versions.find((v) => v.digest === digest);
  if (!current) throw new Error(`base image version ${digest} was not recorded`);

  const scan =
    row.latestScanId === null
      ? undefined
      : (await deps.db.select().from(scans).where(eq(scans.id, row.latestScanId)))[0];
  const layers = scan?.layerDiffIds ?? [];
  const state = driftState(layers, current);
  const builtOnVersion = findBuiltOn(layers, versions);
  // Built on a release we never saw: its base is as many layers as the current release has.
  const baseLayers =
    builtOnVersion?.diffIds ??
    (state === "behind" ? layers.slice(0, current.diffIds.length) : current.diffIds);
  const open = scan ? await openFindings(deps.db, row.id, scan.id, now) : [];
  const attribution = attributeFindings(open, layers.length === 0 ? [] : baseLayers);
  const bump =
    state === "behind"
      ? await bumpFixes(deps.db, current, attribution.baseFindings, parsed.repository)
      : null;
  const movedAt = state === "behind" ? current.firstSeenAt : null;

  const outboxIds: number[] = [];
  const moved = await deps.db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(imageBaseStatus)
      .where(eq(imageBaseStatus.imageId, row.id))
      .for("update");
    const news = state === "behind" && before?.actedOnDigest !== current.digest;
    const values = {
      baseRef: ref,
      state,
      builtOnDigest: builtOnVersion?.digest ?? null,
      currentDigest: current.digest,
      movedAt,
      builtOnAt: builtOnVersion?.builtAt ?? null,
      scanId: scan?.id ?? null,
      baseCounts: attribution.base,
      appFindings: attribution.app,
      unattributed: attribution.unattributed,
      bumpFixes: bump,
      checkedAt: now,
      error: null,
      ...(news ? { actedOnDigest: current.digest } : {}),
    };
    await tx
      .insert(imageBaseStatus)
      .values({ imageId: row.id, ...values })
      .onConflictDoUpdate({ target: imageBaseStatus.imageId, set: values });
    if (!news) return false;
    const baseTotal = totalOf(attribution.base);
    await appendAuditEvents(tx, [
      {
        at: now,
        actor: { id: "system", name: "freshness" },
        action: "base_image.moved",
        outcome: "ok",
        origin: ORIGIN,
        resource: { image: row.repository, digest: row.latestDigest, baseImage: ref },
        payload: {
          from: builtOnVersion?.digest ?? null,
          to: current.digest,
          seenAt: current.firstSeenAt.toISOString(),
          baseFindings: baseTotal,
          baseCritical: attribution.base.critical,
          appFindings: attribution.app,
          unattributed: attribution.unattributed,
          fixedByBump: bump,
          action: image.onBaseImageDrift,
        },
      },
    ]);
    if (image.onBaseImageDrift !== "ignore")
      outboxIds.push(
        await insertIntent(tx, {
          kind: "base-image.drift",
          dedupeKey: `base-drift:${row.id}:${current.digest}`,
          payload: { imageId: row.id, digest: current.digest },
        }),
      );
    return true;
  });
  if (outboxIds.length > 0) await deps.afterCommit(outboxIds);
  return { image: image.id, state, moved };
}

/** The scan's findings that count as open: those no acceptance or VEX statement in force covers. */
async function openFindings(db: Db, imageId: string, scanId: string, now: Date): Promise<LayeredFinding[]> {
  const result = await db.execute(sql`
    SELECT f.vulnerability_id, f.package_name, f.severity, f.layer_diff_id
    FROM findings f
    LEFT JOIN (${acceptedIdsSql({ kind: "image", imageId }, now)}) a ON TRUE
    WHERE f.scan_id = ${scanId}::uuid AND NOT ${isSuppressedSql(sql`a.ids`)}`);
  return openFindingSchema
    .array()
    .parse(result.rows)
    .map((r) => ({
      vulnerabilityId: r.vulnerability_id,
      packageName: r.package_name,
      severity: r.severity as Severity,
      layerDiffId: r.layer_diff_id,
    }));
}

const openFindingSchema = z.object({
  vulnerability_id: z.string(),
  package_name: z.string(),
  severity: z.string(),
  layer_diff_id: z.string().nullable(),
});

/**
 * What bumping would fix, from the new base's own scan (uploaded like any image's, under the
 * base's repository, at the digest the tag points to or its platform manifest); null if unknown.
 */
async function bumpFixes(
  db: Db,
  current: BaseVersion & { manifestDigest: string },
  baseFindings: readonly LayeredFinding[],
  repository: string,
): Promise<SeverityCounts | null> {
  const [newScan] = await db
    .select({ id: scans.id })
    .from(scans)
    .innerJoin(images, eq(images.id, scans.imageId))
    .where(
      and(eq(images.repository, repository), inArray(scans.digest, [current.digest, current.manifestDigest])),
    )
    .orderBy(desc(scans.receivedAt))
    .limit(1);
  if (!newScan) return null;
  const still = await db
    .select({ vulnerabilityId: findings.vulnerabilityId, packageName: findings.packageName })
    .from(findings)
    .where(eq(findings.scanId, newScan.id));
  return fixedByBump(baseFindings, still);
}

/** The rollout reason for a base-image bump: "node:22-bookworm-slim sha256:aaaa… → sha256:bbbb…". */
export function bumpReason(ref: string, from: string | null, to: string): string {
  return `${ref} ${short(from)} → ${short(to)}`;
}
