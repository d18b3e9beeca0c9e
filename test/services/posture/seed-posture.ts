import { sql } from "drizzle-orm";
import type { FixState, Severity } from "../../../src/core/scan/normalized-report.js";
import type { Db } from "../../../src/db/client.js";

export const DAY = 24 * 60 * 60 * 1000;
export const HOUR = 60 * 60 * 1000;

export type SeedFinding = {
  vuln: string;
  aliases?: string[];
  pkg: string;
  /** Distinguishes two findings of one (vulnerability, package), e.g. two install paths. */
  path?: string;
  severity: Severity;
  fixState?: FixState;
  fixedVersions?: string[];
  kev?: boolean;
  title?: string;
};

/** The id of a new team. */
export async function addTeam(db: Db, id: string, name = id): Promise<string> {
  await db.execute(
    sql`INSERT INTO teams (id, name, channel) VALUES (${id}, ${name}, ${`C0${id.toUpperCase()}`})`,
  );
  return id;
}

/** The id of a new image; configured when `configId` is given, unowned without `teamId`. */
export async function addImage(
  db: Db,
  image: { repository: string; configId?: string; teamId?: string },
): Promise<string> {
  const r = await db.execute(sql`
    INSERT INTO images (repository, config_id, team_id)
    VALUES (${image.repository}, ${image.configId ?? null}, ${image.teamId ?? null}) RETURNING id`);
  return String(r.rows[0]?.id);
}

/**
 * A scan of the image received at `at` with these findings. `latest` makes it the image's latest
 * scan, as ingest would after the upload.
 */
export async function addScan(
  db: Db,
  imageId: string,
  scan: { at: Date; findings: SeedFinding[]; latest: boolean; digest?: string; findingCount?: number },
): Promise<string> {
  const digest = scan.digest ?? `sha256:${scan.at.getTime().toString(16).padStart(64, "0")}`;
  const r = await db.execute(sql`
    INSERT INTO scans (image_id, digest, format, scanner_name, scanner_version, content_hash, received_at,
      finding_count, diff)
    VALUES (${imageId}::uuid, ${digest}, 'trivy', 'trivy', '0.58.1', ${`${imageId}:${scan.at.toISOString()}`},
      ${scan.at.toISOString()}::timestamptz, ${scan.findingCount ?? scan.findings.length}, '{}'::jsonb)
    RETURNING id`);
  const scanId = String(r.rows[0]?.id);
  for (const f of scan.findings) {
    const fixState = f.fixState ?? (f.fixedVersions?.length ? "fixed" : "not_fixed");
    await db.execute(sql`
      INSERT INTO findings (scan_id, fingerprint, vulnerability_id, aliases, package_name, package_path,
        installed_version, fixed_versions, fix_state, severity, known_exploited, title)
      VALUES (${scanId}::uuid, ${`${f.vuln}|${f.pkg}|${f.path ?? ""}`}, ${f.vuln},
        ${sql.param(f.aliases ?? [])}::text[], ${f.pkg}, ${f.path ?? null}, '1.0.0',
        ${sql.param(f.fixedVersions ?? [])}::text[], ${fixState}, ${f.severity}, ${f.kev ?? false},
        ${f.title ?? `${f.pkg}: ${f.vuln}`})`);
  }
  if (scan.latest) {
    await db.execute(sql`
      UPDATE images SET latest_scan_id = ${scanId}::uuid, latest_digest = ${digest},
        latest_scan_at = ${scan.at.toISOString()}::timestamptz
      WHERE id = ${imageId}::uuid`);
    // As ingest does: the latest scan's findings carry their lifecycle's first sighting.
    await db.execute(sql`
      UPDATE findings f SET first_seen_at = l.first_seen_at FROM finding_lifecycle l
      WHERE f.scan_id = ${scanId}::uuid AND l.image_id = ${imageId}::uuid
        AND l.vulnerability_id = f.vulnerability_id AND l.package_name = f.package_name`);
  }
  return scanId;
}

/**
 * A `finding_lifecycle` row, kept as ingest keeps it whichever is seeded first: its severity is
 * the worst the finding had in the last seeded scan before the fix, and the image's latest scan's
 * findings of it carry its first sighting. `firstSeen` is SQL timestamptz text so a test can give
 * microseconds, which a JavaScript Date cannot hold.
 */
export async function addLifecycle(
  db: Db,
  imageId: string,
  row: { vuln: string; pkg: string; firstSeen: string; fixedAt?: string },
): Promise<void> {
  const fixedAt = row.fixedAt ?? null;
  await db.execute(sql`
    INSERT INTO finding_lifecycle (image_id, vulnerability_id, package_name, first_seen_at, last_seen_at, fixed_at,
      severity)
    VALUES (${imageId}::uuid, ${row.vuln}, ${row.pkg}, ${row.firstSeen}::timestamptz,
      coalesce(${fixedAt}::timestamptz, ${row.firstSeen}::timestamptz), ${fixedAt}::timestamptz,
      (SELECT f.severity FROM scans s JOIN findings f ON f.scan_id = s.id
        WHERE s.image_id = ${imageId}::uuid AND f.vulnerability_id = ${row.vuln} AND f.package_name = ${row.pkg}
          AND (${fixedAt}::timestamptz IS NULL OR s.received_at < ${fixedAt}::timestamptz)
        ORDER BY s.received_at DESC,
          array_position(ARRAY['critical','high','medium','low','negligible','unknown'], f.severity)
        LIMIT 1))`);
  await db.execute(sql`
    UPDATE findings f SET first_seen_at = ${row.firstSeen}::timestamptz FROM images i
    WHERE i.id = ${imageId}::uuid AND f.scan_id = i.latest_scan_id
      AND f.vulnerability_id = ${row.vuln} AND f.package_name = ${row.pkg}`);
}

export type SeedAcceptance = {
  vuln: string;
  imageId?: string;
  teamId?: string;
  status?: "accepted" | "not_affected" | "fixed" | "affected" | "under_investigation";
  source?: "slack" | "cli" | "vex";
  until?: Date | null;
  revokedAt?: Date;
  createdAt?: Date;
  reason?: string;
  by?: string;
  byName?: string;
};

export async function addAcceptance(db: Db, a: SeedAcceptance): Promise<string> {
  const r = await db.execute(sql`
    INSERT INTO risk_acceptances (vulnerability_id, image_id, team_id, source, status, reason, accepted_by,
      accepted_by_name, expires_at, revoked_at, created_at)
    VALUES (${a.vuln}, ${a.imageId ?? null}::uuid, ${a.teamId ?? null}, ${a.source ?? "slack"}, ${a.status ?? "accepted"},
      ${a.reason ?? "accepted in a test"}, ${a.by ?? "U0SAM"}, ${a.byName ?? null},
      ${a.until === undefined || a.until === null ? null : a.until.toISOString()}::timestamptz,
      ${a.revokedAt?.toISOString() ?? null}::timestamptz,
      ${(a.createdAt ?? new Date("2026-11-01T00:00:00Z")).toISOString()}::timestamptz)
    RETURNING id`);
  return String(r.rows[0]?.id);
}

export async function addRollout(db: Db, imageId: string, state: string): Promise<void> {
  await db.execute(sql`
    INSERT INTO rollouts (image_id, state, requested_by) VALUES (${imageId}::uuid, ${state}, 'U0LEE')`);
}
