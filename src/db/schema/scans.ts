import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import type { ScanDiff } from "../../core/scan/diff-scans.js";
import { images } from "./fleet.js";

export const scans = pgTable(
  "scans",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    imageId: uuid("image_id")
      .notNull()
      .references(() => images.id),
    digest: text("digest").notNull(),
    tag: text("tag"),
    format: text("format").notNull(),
    scannerName: text("scanner_name").notNull(),
    scannerVersion: text("scanner_version"),
    /** sha256 of the normalized findings: a re-upload of the same report is a no-op. */
    contentHash: text("content_hash").notNull(),
    reportCreatedAt: timestamp("report_created_at", { withTimezone: true }),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    findingCount: integer("finding_count").notNull(),
    /** new / fixed / unchanged against the image's previous scan, with counts by severity. */
    diff: jsonb("diff").$type<ScanDiff>().notNull(),
    rolloutId: integer("rollout_id"),
    /** The image's layers (`rootfs.diff_ids`) as the report lists them, bottom first; [] when it does not. */
    layerDiffIds: text("layer_diff_ids").array().notNull().default(sql`'{}'::text[]`),
    uploadedBy: text("uploaded_by"),
  },
  (t) => [
    unique("scans_image_digest_content_uq").on(t.imageId, t.digest, t.contentHash),
    index("scans_image_received_idx").on(t.imageId, t.receivedAt),
  ],
);

export const findings = pgTable(
  "findings",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    scanId: uuid("scan_id")
      .notNull()
      .references(() => scans.id, { onDelete: "cascade" }),
    fingerprint: text("fingerprint").notNull(),
    vulnerabilityId: text("vulnerability_id").notNull(),
    aliases: text("aliases").array().notNull().default(sql`'{}'::text[]`),
    packageName: text("package_name").notNull(),
    packageType: text("package_type"),
    purl: text("purl"),
    packagePath: text("package_path"),
    installedVersion: text("installed_version"),
    fixedVersions: text("fixed_versions").array().notNull().default(sql`'{}'::text[]`),
    fixState: text("fix_state").notNull(),
    severity: text("severity").notNull(),
    cvssScore: real("cvss_score"),
    cvssVector: text("cvss_vector"),
    epss: real("epss"),
    knownExploited: boolean("known_exploited").notNull().default(false),
    layerDigest: text("layer_digest"),
    layerDiffId: text("layer_diff_id"),
    title: text("title"),
    primaryUrl: text("primary_url"),
    /**
     * The lifecycle's first sighting of (image, vulnerability, package), copied when the scan
     * becomes the image's latest, so posture reads the SLA clock without joining the lifecycle.
     * Null on a candidate's scan until it reaches production, and on scans superseded before 0008.
     */
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }),
  },
  (t) => [
    unique("findings_scan_fingerprint_uq").on(t.scanId, t.fingerprint),
    index("findings_vuln_idx").on(t.vulnerabilityId),
  ],
);

/** First-seen / fixed-at per (image, vulnerability, package): the SLA clock survives rebuilds. */
export const findingLifecycle = pgTable(
  "finding_lifecycle",
  {
    imageId: uuid("image_id")
      .notNull()
      .references(() => images.id),
    vulnerabilityId: text("vulnerability_id").notNull(),
    packageName: text("package_name").notNull(),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
    fixedAt: timestamp("fixed_at", { withTimezone: true }),
    /**
     * The worst severity the finding had in the last scan that showed it (kept when it is fixed):
     * what mean time to remediate counts a fix under. Null only for rows fixed before 0008 whose
     * scans are gone.
     */
    severity: text("severity"),
  },
  (t) => [
    primaryKey({ columns: [t.imageId, t.vulnerabilityId, t.packageName] }),
    // Mean time to remediate reads the fixes of a period, not every open finding's row.
    index("finding_lifecycle_fixed_idx").on(t.fixedAt, t.imageId).where(sql`${t.fixedAt} IS NOT NULL`),
  ],
);
