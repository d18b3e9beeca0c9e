import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import type { Severity } from "../../core/scan/normalized-report.js";
import { images } from "./fleet.js";
import { scans } from "./scans.js";

/**
 * What a base image tag pointed to each time the freshness job looked: the digest, and the layers
 * (`rootfs.diff_ids`) of the configured platform's image. An image whose own layers start with a
 * version's diff ids was built on that version.
 */
export const baseImageVersions = pgTable(
  "base_image_versions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** Canonical repository (docker.io/library/node). */
    repository: text("repository").notNull(),
    tag: text("tag").notNull(),
    platform: text("platform").notNull(),
    /** What the tag pointed to (an index or a manifest). */
    digest: text("digest").notNull(),
    manifestDigest: text("manifest_digest").notNull(),
    diffIds: text("diff_ids").array().notNull(),
    /** The image config's `created`, when it has one. */
    builtAt: timestamp("built_at", { withTimezone: true }),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    unique("base_image_versions_uq").on(t.repository, t.tag, t.platform, t.digest),
    index("base_image_versions_seen_idx").on(t.repository, t.tag, t.platform, t.firstSeenAt),
  ],
);

/**
 * Per configured image with a base image: is it built on what the base tag points to now, and
 * how many of its open findings come from the base. One row per image, rewritten by each check;
 * every move of the base is also an audit event.
 */
export const imageBaseStatus = pgTable(
  "image_base_status",
  {
    imageId: uuid("image_id")
      .primaryKey()
      .references(() => images.id),
    baseRef: text("base_ref").notNull(),
    /** current | behind | unknown (no scan with layers yet, or the base could not be read). */
    state: text("state").notNull(),
    /** The base digest the image's layers start with, when one we saw matches. */
    builtOnDigest: text("built_on_digest"),
    currentDigest: text("current_digest"),
    /** When the base tag was first seen at its current digest (the drift's start). */
    movedAt: timestamp("moved_at", { withTimezone: true }),
    /** `created` of the base the image is built on, for its age. */
    builtOnAt: timestamp("built_on_at", { withTimezone: true }),
    scanId: uuid("scan_id").references(() => scans.id, { onDelete: "set null" }),
    /** Open findings of the image's latest scan from the base's layers, by severity. */
    baseCounts: jsonb("base_counts").$type<Record<Severity, number>>(),
    appFindings: integer("app_findings").notNull().default(0),
    /** Findings without a layer in the report, or images whose layers the report does not list. */
    unattributed: integer("unattributed").notNull().default(0),
    /** Open base findings the new base's own scan no longer has, by severity; null while that scan is unknown. */
    bumpFixes: jsonb("bump_fixes").$type<Record<Severity, number>>(),
    checkedAt: timestamp("checked_at", { withTimezone: true }).notNull(),
    /** The last registry error, as the user-facing message; null after a good check. */
    error: text("error"),
    /** The new base digest the team was told about or a rollout was opened for. */
    actedOnDigest: text("acted_on_digest"),
  },
  (t) => [index("image_base_status_state_idx").on(t.state)],
);
