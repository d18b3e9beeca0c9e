ALTER TABLE "finding_lifecycle" ADD COLUMN "severity" text;--> statement-breakpoint
ALTER TABLE "findings" ADD COLUMN "first_seen_at" timestamp with time zone;--> statement-breakpoint
-- Each lifecycle row's severity: the worst it had in the last scan that showed it (what mean time
-- to remediate looked up per fix before this migration).
UPDATE "finding_lifecycle" l SET "severity" = w.severity
FROM (
  SELECT DISTINCT ON (s.image_id, f.vulnerability_id, f.package_name)
    s.image_id, f.vulnerability_id, f.package_name, f.severity
  FROM "scans" s JOIN "findings" f ON f.scan_id = s.id
  ORDER BY s.image_id, f.vulnerability_id, f.package_name, s.received_at DESC,
    array_position(ARRAY['critical','high','medium','low','negligible','unknown'], f.severity)
) w
WHERE l.image_id = w.image_id AND l.vulnerability_id = w.vulnerability_id AND l.package_name = w.package_name;--> statement-breakpoint
-- The first sighting on every finding of each image's latest scan (what posture reads).
UPDATE "findings" f SET "first_seen_at" = l.first_seen_at
FROM "images" i JOIN "finding_lifecycle" l ON l.image_id = i.id
WHERE f.scan_id = i.latest_scan_id AND l.vulnerability_id = f.vulnerability_id AND l.package_name = f.package_name;--> statement-breakpoint
-- Only mean time to remediate's per-fix lookup used it; it slowed every finding insert.
DROP INDEX "findings_scan_vuln_pkg_idx";--> statement-breakpoint
CREATE INDEX "finding_lifecycle_fixed_idx" ON "finding_lifecycle" USING btree ("fixed_at","image_id") WHERE "finding_lifecycle"."fixed_at" IS NOT NULL;
