import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { diffScans, type FindingKey, findingKey, type ScanDiff } from "../core/scan/diff-scans.js";
import type { NormalizedFinding, Severity } from "../core/scan/normalized-report.js";
import type { Db } from "./client.js";
import { findings, images, OPEN_ROLLOUT_STATES, rollouts, scans } from "./schema/index.js";
import { type Rows, type Statement, statementOf } from "./statements.js";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type ImageRow = typeof images.$inferSelect;

/** Postgres text cannot hold NUL; a report that smuggles one in must not fail the upload. */
const clean = (s: string | null): string | null =>
  s === null ? null : s.includes("\u0000") ? s.replaceAll("\u0000", "") : s;
const cleanAll = (xs: string[]) => xs.map((x) => clean(x) ?? "");
// Arrays of arrays cannot pass through unnest, so lists travel as one string split in SQL.
// Each array is one bound parameter (sql.param): drizzle would otherwise expand it into a list.
const LIST_SEP = "\u001f";

/** The image an upload stores its scan under, as `lockImageStatements` read it. */
export type LockedImage = {
  id: string;
  teamId: string | null;
  latestScanId: string | null;
  /** This very report's scan, when it is stored already (a re-upload). */
  sameScanId: string | null;
};

/**
 * The statements that open an upload's transaction, in its first round trip: the image of the
 * repository is created if new (and so kept under "unowned", its findings surfaced, never
 * dropped), then locked, which serializes the ingests of one image (two uploads cannot both diff
 * against the same predecessor), and read with its owner and latest scan as they are once the lock
 * is held, and whether this very report is stored already. The row lock is the one making a scan
 * the latest takes anyway; it does not block foreign keys to the image. An image owned by another
 * team than the uploader's is not locked (so a refused upload never waits for, nor delays, that
 * team's uploads): only its owner is read. An image created by an upload that fails is rolled back
 * with it. Read the results with `lockedImageOf`.
 */
export function lockImageStatements(
  repository: string,
  report: { digest: string; contentHash: string },
  uploaderTeam: string | null,
): Statement[] {
  return [
    statementOf(
      sql`INSERT INTO images (repository) VALUES (${repository}) ON CONFLICT (repository) DO NOTHING`,
    ),
    statementOf(sql`
      SELECT i.id, i.team_id, i.latest_scan_id,
        (SELECT s.id FROM scans s WHERE s.image_id = i.id AND s.digest = ${report.digest}
          AND s.content_hash = ${report.contentHash}) AS same_scan_id
      FROM images i
      WHERE i.repository = ${repository}
        AND (${uploaderTeam}::text IS NULL OR i.team_id IS NULL OR i.team_id = ${uploaderTeam}::text)
      FOR NO KEY UPDATE OF i`),
    statementOf(sql`SELECT team_id FROM images WHERE repository = ${repository}`),
  ];
}

/** The locked image, or else the team that owns it (another than the uploader's), from `lockImageStatements`. */
export function lockedImageOf(
  results: readonly Rows[],
): { image: LockedImage } | { image: null; owner: string | null } {
  const row = results[1]?.[0] as
    | { id: string; team_id: string | null; latest_scan_id: string | null; same_scan_id: string | null }
    | undefined;
  if (!row) return { image: null, owner: (results[2]?.[0]?.team_id as string | null | undefined) ?? null };
  return {
    image: {
      id: row.id,
      teamId: row.team_id,
      latestScanId: row.latest_scan_id,
      sameScanId: row.same_scan_id,
    },
  };
}

export type StoredScan = typeof scans.$inferSelect;

/** The scan of this image and digest whose normalized findings hash to `contentHash`, if any. */
export async function findScanByContent(
  tx: Tx,
  imageId: string,
  digest: string,
  contentHash: string,
): Promise<StoredScan | null> {
  const rows = await tx
    .select()
    .from(scans)
    .where(and(eq(scans.imageId, imageId), eq(scans.digest, digest), eq(scans.contentHash, contentHash)));
  return rows[0] ?? null;
}

export type NewScan = Omit<typeof scans.$inferInsert, "id" | "receivedAt" | "diff"> & {
  id: string;
  receivedAt: Date;
  diff: ScanDiff;
};

/**
 * Inserts a scan, and with `latest` makes it the image's latest, in one round trip. False, and
 * nothing written, when the image already has a scan of this digest with the same content.
 */
export async function insertScan(tx: Tx, scan: NewScan, latest: boolean): Promise<boolean> {
  const r = await tx.execute(sql`
    WITH inserted AS (
      INSERT INTO scans (id, image_id, digest, tag, format, scanner_name, scanner_version, content_hash,
        report_created_at, received_at, finding_count, diff, rollout_id, layer_diff_ids, uploaded_by)
      VALUES (${scan.id}::uuid, ${scan.imageId}::uuid, ${scan.digest}, ${scan.tag ?? null}, ${scan.format},
        ${scan.scannerName}, ${scan.scannerVersion ?? null}, ${scan.contentHash},
        ${scan.reportCreatedAt ?? null}::timestamptz, ${scan.receivedAt}::timestamptz, ${scan.findingCount},
        ${JSON.stringify(scan.diff)}::jsonb, ${scan.rolloutId ?? null}::integer,
        ${sql.param(cleanAll(scan.layerDiffIds ?? []))}::text[], ${scan.uploadedBy ?? null})
      ON CONFLICT ON CONSTRAINT scans_image_digest_content_uq DO NOTHING
      RETURNING id
    ), made_latest AS (
      UPDATE images SET latest_scan_id = inserted.id, latest_digest = ${scan.digest},
        latest_scan_at = ${scan.receivedAt}::timestamptz
      FROM inserted WHERE images.id = ${scan.imageId}::uuid AND ${latest}::boolean
    )
    SELECT id FROM inserted`);
  return r.rows.length > 0;
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

/** What the scan does to its image's lifecycle when it becomes the image's latest (see diffScans). */
export type LifecycleUpdate = {
  imageId: string;
  at: Date;
  present: readonly FindingKey[];
  gone: ReadonlyArray<{ vulnerabilityId: string; packageName: string }>;
};

/**
 * Inserts a scan's findings through unnest, one statement per 5,000. With `lifecycle` (the scan
 * becomes the image's latest), each statement first updates the lifecycle of its findings' keys
 * (see updateLifecycle) and each finding copies its first sighting from there.
 */
export async function insertFindings(
  tx: Tx,
  scanId: string,
  list: readonly NormalizedFinding[],
  lifecycle: LifecycleUpdate | null,
): Promise<void> {
  // A key listed at several paths takes its worst severity in the scan, whichever batch it is in.
  const worst = new Map(lifecycle?.present.map((k) => [findingKey(k), k]));
  for (let i = 0; i < Math.max(list.length, lifecycle?.gone.length ?? 0); i += BATCH) {
    const part = list.slice(i, i + BATCH);
    const col = <T>(f: (x: NormalizedFinding) => T) => part.map(f);
    let seen = sql``;
    let firstSeen = sql`NULL::timestamptz`;
    let join = sql``;
    if (lifecycle) {
      const keys = new Map<string, FindingKey>();
      for (const f of part) {
        const k = findingKey(f);
        if (!keys.has(k)) keys.set(k, worst.get(k) ?? f);
      }
      const fixed = lifecycle.gone.slice(i, i + BATCH);
      seen = sql`WITH fixed AS (${markFixed(lifecycle.imageId, lifecycle.at, fixed)}),
        seen AS (${markSeen(lifecycle.imageId, lifecycle.at, [...keys.values()])}
          RETURNING vulnerability_id, package_name, first_seen_at)`;
      firstSeen = sql`s.first_seen_at`;
      join = sql`LEFT JOIN seen s ON s.vulnerability_id = u.vid AND s.package_name = u.pkg`;
    }
    await tx.execute(sql`
      ${seen}
      INSERT INTO findings (scan_id, fingerprint, vulnerability_id, aliases, package_name, package_type, purl,
        package_path, installed_version, fixed_versions, fix_state, severity, cvss_score, cvss_vector, epss,
        known_exploited, layer_digest, layer_diff_id, title, primary_url, first_seen_at)
      SELECT ${scanId}::uuid, u.fp, u.vid, string_to_array(u.aliases, ${LIST_SEP}), u.pkg, u.ptype, u.purl,
        u.ppath, u.iver, string_to_array(u.fixed, ${LIST_SEP}), u.fstate, u.sev, u.cvss, u.vec, u.epss,
        u.kev, u.ldig, u.ldiff, u.title, u.url, ${firstSeen}
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
      ${join}
    `);
  }
}

/**
 * First-seen survives rebuilds: present keys keep their first sighting (and reopen if they had
 * been fixed) and take the scan's (worst) severity; keys that disappeared get their fixed-at and
 * keep the severity they last had. One statement per 5,000 keys of each kind.
 */
export async function updateLifecycle(tx: Tx, update: LifecycleUpdate): Promise<void> {
  const { imageId, at, present, gone } = update;
  for (let i = 0; i < Math.max(present.length, gone.length); i += BATCH) {
    await tx.execute(sql`
      WITH fixed AS (${markFixed(imageId, at, gone.slice(i, i + BATCH))})
      ${markSeen(imageId, at, present.slice(i, i + BATCH))}`);
  }
}

const markSeen = (imageId: string, at: Date, keys: readonly FindingKey[]) => sql`
  INSERT INTO finding_lifecycle (image_id, vulnerability_id, package_name, first_seen_at, last_seen_at, fixed_at, severity)
  SELECT ${imageId}::uuid, u.vid, u.pkg, ${at}::timestamptz, ${at}::timestamptz, NULL, u.sev
  FROM unnest(${sql.param(cleanAll(keys.map((k) => k.vulnerabilityId)))}::text[], ${sql.param(cleanAll(keys.map((k) => k.packageName)))}::text[],
    ${sql.param(keys.map((k) => k.severity))}::text[]) AS u(vid, pkg, sev)
  ON CONFLICT (image_id, vulnerability_id, package_name)
  DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, fixed_at = NULL, severity = EXCLUDED.severity`;

const markFixed = (
  imageId: string,
  at: Date,
  gone: ReadonlyArray<{ vulnerabilityId: string; packageName: string }>,
) => sql`
  UPDATE finding_lifecycle l SET fixed_at = ${at}::timestamptz
  FROM unnest(${sql.param(cleanAll(gone.map((k) => k.vulnerabilityId)))}::text[], ${sql.param(cleanAll(gone.map((k) => k.packageName)))}::text[]) AS u(vid, pkg)
  WHERE l.image_id = ${imageId}::uuid AND l.vulnerability_id = u.vid AND l.package_name = u.pkg AND l.fixed_at IS NULL`;

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

/** Locks an image row as an upload does (see `lockImageStatements`) and reads its latest scan. */
async function lockImage(tx: Tx, imageId: string): Promise<{ latestScanId: string | null } | null> {
  const rows = await tx
    .select({ latestScanId: images.latestScanId })
    .from(images)
    .where(eq(images.id, imageId))
    .for("no key update");
  return rows[0] ?? null;
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
  const image = await lockImage(tx, imageId);
  const candidate = await latestScanOfDigest(tx, imageId, digest);
  if (!candidate || !image || image.latestScanId === candidate.id) return false;
  const before = image.latestScanId ? await findingKeysOfScan(tx, image.latestScanId) : [];
  const after = await findingKeysOfScan(tx, candidate.id);
  const diff = diffScans(before, after);
  await updateLifecycle(tx, { imageId, at, present: diff.presentKeys, gone: diff.goneKeys });
  await tx.execute(sql`
    UPDATE findings f SET first_seen_at = l.first_seen_at
    FROM finding_lifecycle l
    WHERE f.scan_id = ${candidate.id}::uuid AND l.image_id = ${imageId}::uuid
      AND l.vulnerability_id = f.vulnerability_id AND l.package_name = f.package_name`);
  await tx
    .update(images)
    .set({ latestScanId: candidate.id, latestDigest: digest, latestScanAt: at })
    .where(eq(images.id, imageId));
  return true;
}
