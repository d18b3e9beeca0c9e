import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { diffScans, type FindingKey } from "../core/scan/diff-scans.js";
import type { NormalizedFinding, Severity } from "../core/scan/normalized-report.js";
import type { Db } from "./client.js";
import { findings, images, OPEN_ROLLOUT_STATES, rollouts, scans } from "./schema/index.js";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type ImageRow = typeof images.$inferSelect;

/** Postgres text cannot hold NUL; a report that smuggles one in must not fail the upload. */
const clean = (s: string | null): string | null =>
  s === null ? null : s.includes("\u0000") ? s.replaceAll("\u0000", "") : s;
const cleanAll = (xs: string[]) => xs.map((x) => clean(x) ?? "");
// Arrays of arrays cannot pass through unnest, so lists travel as one string split in SQL.
// Each array is one bound parameter (sql.param): drizzle would otherwise expand it into a list.
const LIST_SEP = "\u001f";

export async function findImageByRepository(db: Db | Tx, repository: string): Promise<ImageRow | null> {
  const rows = await db.select().from(images).where(eq(images.repository, repository));
  return rows[0] ?? null;
}

/** An image no config names: kept under "unowned" so its findings are surfaced, never dropped. */
export async function ensureUnownedImage(db: Db | Tx, repository: string): Promise<ImageRow> {
  await db.insert(images).values({ repository }).onConflictDoNothing({ target: images.repository });
  const row = await findImageByRepository(db, repository);
  if (!row) throw new Error(`image ${repository} vanished after insert`);
  return row;
}

export async function findScanByContent(tx: Tx, imageId: string, digest: string, contentHash: string) {
  const rows = await tx
    .select()
    .from(scans)
    .where(and(eq(scans.imageId, imageId), eq(scans.digest, digest), eq(scans.contentHash, contentHash)));
  return rows[0] ?? null;
}

export async function findingKeysOfScan(tx: Tx, scanId: string): Promise<FindingKey[]> {
  const rows = await tx
    .select({
      vulnerabilityId: findings.vulnerabilityId,
      packageName: findings.packageName,
      severity: findings.severity,
    })
    .from(findings)
    .where(eq(findings.scanId, scanId));
  return rows.map((r) => ({ ...r, severity: r.severity as Severity }));
}

const BATCH = 5_000;

/**
 * Inserts a scan's findings in batches through unnest: one round trip per 5,000 rows. With
 * `latestOf` (the scan becomes that image's latest; its lifecycle already updated), each finding
 * carries its first sighting from the lifecycle.
 */
export async function insertFindings(
  tx: Tx,
  scanId: string,
  list: readonly NormalizedFinding[],
  latestOf: string | null,
): Promise<void> {
  for (let i = 0; i < list.length; i += BATCH) {
    const part = list.slice(i, i + BATCH);
    const col = <T>(f: (x: NormalizedFinding) => T) => part.map(f);
    await tx.execute(sql`
      INSERT INTO findings (scan_id, fingerprint, vulnerability_id, aliases, package_name, package_type, purl,
        package_path, installed_version, fixed_versions, fix_state, severity, cvss_score, cvss_vector, epss,
        known_exploited, layer_digest, layer_diff_id, title, primary_url, first_seen_at)
      SELECT ${scanId}::uuid, u.fp, u.vid, string_to_array(u.aliases, ${LIST_SEP}), u.pkg, u.ptype, u.purl,
        u.ppath, u.iver, string_to_array(u.fixed, ${LIST_SEP}), u.fstate, u.sev, u.cvss, u.vec, u.epss,
        u.kev, u.ldig, u.ldiff, u.title, u.url, l.first_seen_at
      FROM unnest(
        ${sql.param(col((f) => f.fingerprint))}::text[], ${sql.param(cleanAll(col((f) => f.vulnerabilityId)))}::text[],
        ${sql.param(col((f) => cleanAll(f.aliases).join(LIST_SEP)))}::text[], ${sql.param(cleanAll(col((f) => f.packageName)))}::text[],
        ${sql.param(col((f) => clean(f.packageType)))}::text[], ${sql.param(col((f) => clean(f.purl)))}::text[],
        ${sql.param(col((f) => clean(f.packagePath)))}::text[], ${sql.param(col((f) => clean(f.installedVersion)))}::text[],
        ${sql.param(col((f) => cleanAll(f.fixedVersions).join(LIST_SEP)))}::text[], ${sql.param(col((f) => f.fixState))}::text[],
        ${sql.param(col((f) => f.severity))}::text[], ${sql.param(col((f) => f.cvssScore))}::real[], ${sql.param(col((f) => clean(f.cvssVector)))}::text[],
        ${sql.param(col((f) => f.epss))}::real[], ${sql.param(col((f) => f.knownExploited))}::boolean[], ${sql.param(col((f) => clean(f.layerDigest)))}::text[],
        ${sql.param(col((f) => clean(f.layerDiffId)))}::text[], ${sql.param(col((f) => clean(f.title)?.slice(0, 2000) ?? null))}::text[],
        ${sql.param(col((f) => clean(f.primaryUrl)?.slice(0, 2000) ?? null))}::text[]
      ) AS u(fp, vid, aliases, pkg, ptype, purl, ppath, iver, fixed, fstate, sev, cvss, vec, epss, kev, ldig, ldiff, title, url)
      LEFT JOIN finding_lifecycle l
        ON l.image_id = ${latestOf}::uuid AND l.vulnerability_id = u.vid AND l.package_name = u.pkg
    `);
  }
}

/**
 * First-seen survives rebuilds: present keys keep their first sighting (and reopen if they had
 * been fixed) and take the scan's (worst) severity; keys that disappeared get their fixed-at and
 * keep the severity they last had.
 */
export async function updateLifecycle(
  tx: Tx,
  imageId: string,
  at: Date,
  present: readonly FindingKey[],
  gone: ReadonlyArray<{ vulnerabilityId: string; packageName: string }>,
): Promise<void> {
  for (let i = 0; i < present.length; i += BATCH) {
    const part = present.slice(i, i + BATCH);
    await tx.execute(sql`
      INSERT INTO finding_lifecycle (image_id, vulnerability_id, package_name, first_seen_at, last_seen_at, fixed_at, severity)
      SELECT ${imageId}::uuid, u.vid, u.pkg, ${at}::timestamptz, ${at}::timestamptz, NULL, u.sev
      FROM unnest(${sql.param(cleanAll(part.map((k) => k.vulnerabilityId)))}::text[], ${sql.param(cleanAll(part.map((k) => k.packageName)))}::text[],
        ${sql.param(part.map((k) => k.severity))}::text[]) AS u(vid, pkg, sev)
      ON CONFLICT (image_id, vulnerability_id, package_name)
      DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, fixed_at = NULL, severity = EXCLUDED.severity
    `);
  }
  for (let i = 0; i < gone.length; i += BATCH) {
    const part = gone.slice(i, i + BATCH);
    await tx.execute(sql`
      UPDATE finding_lifecycle l SET fixed_at = ${at}::timestamptz
      FROM unnest(${sql.param(cleanAll(part.map((k) => k.vulnerabilityId)))}::text[], ${sql.param(cleanAll(part.map((k) => k.packageName)))}::text[]) AS u(vid, pkg)
      WHERE l.image_id = ${imageId}::uuid AND l.vulnerability_id = u.vid AND l.package_name = u.pkg AND l.fixed_at IS NULL
    `);
  }
}

/** Serializes ingests of one image, so two uploads cannot both diff against the same predecessor. */
export async function lockImage(tx: Tx, imageId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`image:${imageId}`}, 0))`);
}

export async function setLatestScan(
  tx: Tx,
  imageId: string,
  scanId: string,
  digest: string,
  at: Date,
): Promise<void> {
  await tx
    .update(images)
    .set({ latestScanId: scanId, latestDigest: digest, latestScanAt: at })
    .where(eq(images.id, imageId));
}

/** The newest scan of one digest of an image, or null if it was never scanned. */
export async function latestScanOfDigest(
  db: Db | Tx,
  imageId: string,
  digest: string,
): Promise<{ id: string } | null> {
  const rows = await db
    .select({ id: scans.id })
    .from(scans)
    .where(and(eq(scans.imageId, imageId), eq(scans.digest, digest)))
    .orderBy(desc(scans.receivedAt))
    .limit(1);
  return rows[0] ?? null;
}

/** Whether `rolloutId` is an open rollout of this image: its build's scan is then a candidate's. */
export async function isOpenRolloutOf(tx: Tx, rolloutId: number, imageId: string): Promise<boolean> {
  const rows = await tx
    .select({ id: rollouts.id })
    .from(rollouts)
    .where(
      and(
        eq(rollouts.id, rolloutId),
        eq(rollouts.imageId, imageId),
        inArray(rollouts.state, [...OPEN_ROLLOUT_STATES]),
      ),
    );
  return rows.length > 0;
}

/**
 * The candidate reached production: its latest scan becomes the image's, and first-seen/fixed-at
 * follow (what it no longer has is fixed now). Nothing happens if it already is the latest.
 */
export async function promoteCandidateScan(
  tx: Tx,
  imageId: string,
  digest: string,
  at: Date,
): Promise<boolean> {
  await lockImage(tx, imageId);
  const candidate = await latestScanOfDigest(tx, imageId, digest);
  const image = (await tx.select().from(images).where(eq(images.id, imageId)))[0];
  if (!candidate || !image || image.latestScanId === candidate.id) return false;
  const before = image.latestScanId ? await findingKeysOfScan(tx, image.latestScanId) : [];
  const after = await findingKeysOfScan(tx, candidate.id);
  const diff = diffScans(before, after);
  await updateLifecycle(tx, imageId, at, diff.presentKeys, diff.goneKeys);
  await tx.execute(sql`
    UPDATE findings f SET first_seen_at = l.first_seen_at
    FROM finding_lifecycle l
    WHERE f.scan_id = ${candidate.id}::uuid AND l.image_id = ${imageId}::uuid
      AND l.vulnerability_id = f.vulnerability_id AND l.package_name = f.package_name`);
  await setLatestScan(tx, imageId, candidate.id, digest, at);
  return true;
}
