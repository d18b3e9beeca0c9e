import type pg from "pg";

/** The fleet `bench:posture` measures: QUALITY.md's sizing target. */
export const FLEET = { teams: 200, ownedImages: 5_000, unownedImages: 25, baseImages: 40 } as const;

/**
 * Seeds the fleet with set-based SQL (a minute, not hours of row-by-row inserts). Every image has
 * two scans a week apart; finding k of an image is always the same vulnerability and package, so
 * the older scan shares most findings with the latest one (the first `shift` were fixed since,
 * the last `shift` are new). 70% of an image's findings come from its base image, which all
 * images of a team share, as in real fleets. `now` is a constant of this file's caller, not input.
 */
export function seedStatements(now: Date): { label: string; sql: string }[] {
  const at = `'${now.toISOString()}'::timestamptz`;
  return [
    { label: "session", sql: "SET synchronous_commit = off; SELECT setseed(0.4242)" },
    {
      label: "vulnerabilities",
      // 3% critical, 15% high, 35% medium, 30% low, 10% negligible, 7% unknown; 1 in 199 known
      // exploited; a third also known by a GHSA alias.
      sql: `CREATE TEMP TABLE vulns AS
        SELECT v AS idx, 'CVE-' || (2014 + v % 12) || '-' || (10000 + v) AS id,
          CASE WHEN v % 3 = 0 THEN ARRAY['GHSA-' || substr(md5(v::text), 1, 4) || '-' || substr(md5(v::text), 5, 4)
            || '-' || substr(md5(v::text), 9, 4)] ELSE '{}'::text[] END AS aliases,
          CASE WHEN r < 0.03 THEN 'critical' WHEN r < 0.18 THEN 'high' WHEN r < 0.53 THEN 'medium'
            WHEN r < 0.83 THEN 'low' WHEN r < 0.93 THEN 'negligible' ELSE 'unknown' END AS severity,
          v % 199 = 0 AS known_exploited, round((r * 10)::numeric, 1)::real AS cvss
        FROM (SELECT v, random() AS r FROM generate_series(0, 29999) v) s`,
    },
    {
      label: "packages",
      sql: `CREATE TEMP TABLE pkgs AS SELECT p AS idx,
        (ARRAY['lib', 'py-', 'node-', 'go-', 'perl-'])[1 + p % 5] || 'pkg' || p AS name FROM generate_series(0, 1999) p`,
    },
    {
      label: "teams",
      sql: `INSERT INTO teams (id, name, channel) SELECT 'team-' || lpad(t::text, 3, '0'), 'Team ' || t,
        'C0TEAM' || lpad(t::text, 3, '0') FROM generate_series(1, ${FLEET.teams}) t`,
    },
    {
      label: "images",
      sql: `INSERT INTO images (repository, config_id, team_id, base_image)
        SELECT 'ghcr.io/acme/svc-' || n, 'svc-' || n, 'team-' || lpad((1 + (n - 1) % ${FLEET.teams})::text, 3, '0'),
          (ARRAY['node:22-bookworm-slim', 'python:3.12-slim', 'eclipse-temurin:21-jre', 'golang:1.23', 'debian:12-slim'])[1 + n % 5]
            || '@v' || (n % ${FLEET.baseImages})
        FROM generate_series(1, ${FLEET.ownedImages}) n;
        INSERT INTO images (repository) SELECT 'docker.io/stray/img-' || n FROM generate_series(1, ${FLEET.unownedImages}) n`,
    },
    {
      label: "scan plan",
      sql: `CREATE TEMP TABLE plan AS
        SELECT id AS image_id, row_number() OVER (ORDER BY repository) AS seed,
          coalesce(substring(repository FROM 'svc-([0-9]+)$')::int % ${FLEET.baseImages}, 0) AS base,
          50 + floor(random() * 401)::int AS n, floor(random() * 40)::int AS shift,
          gen_random_uuid() AS old_scan, gen_random_uuid() AS new_scan,
          ${at} - random() * interval '3 days' AS new_at
        FROM images`,
    },
    {
      label: "scans",
      sql: `INSERT INTO scans (id, image_id, digest, format, scanner_name, scanner_version, content_hash,
          received_at, finding_count, diff)
        SELECT old_scan, image_id, 'sha256:' || md5(old_scan::text) || md5(image_id::text), 'trivy', 'trivy', '0.58.0',
          md5(old_scan::text), new_at - interval '7 days', n, '{}'::jsonb FROM plan
        UNION ALL
        SELECT new_scan, image_id, 'sha256:' || md5(new_scan::text) || md5(image_id::text), 'trivy', 'trivy', '0.58.0',
          md5(new_scan::text), new_at, n, '{}'::jsonb FROM plan;
        UPDATE images i SET latest_scan_id = p.new_scan, latest_scan_at = p.new_at,
          latest_digest = 'sha256:' || md5(p.new_scan::text) || md5(p.image_id::text)
        FROM plan p WHERE p.image_id = i.id`,
    },
    {
      label: "finding plan",
      // First seen spread over 400 days, most of it recent (the same for every finding of one
      // (image, vulnerability, package)); the findings new in the latest scan were first seen then.
      sql: `CREATE TEMP TABLE plan_findings AS
        SELECT p.image_id, p.seed, k, v.idx AS vidx, (v.idx * 31 + k) % 2000 AS pidx,
          k <= p.shift AS only_old, k > p.n AS only_new,
          CASE WHEN k > p.n THEN p.new_at ELSE p.new_at - interval '7 days'
            - (abs(hashtext(p.image_id::text || ':' || v.idx || ':' || ((v.idx * 31 + k) % 2000))) / 2147483647.0) ^ 2
              * interval '400 days' END AS first_seen
        FROM plan p CROSS JOIN LATERAL generate_series(1, p.n + p.shift) k
        JOIN vulns v ON v.idx = CASE WHEN k % 10 < 7 THEN (p.base * 1013 + k * 7907) % 30000
          ELSE (p.seed * 97 + k * 7907) % 30000 END`,
    },
    {
      label: "lifecycle",
      // Before the findings, as ingest writes it; the findings gone since the older scan were
      // fixed at the latest scan and keep the severity they had.
      sql: `INSERT INTO finding_lifecycle (image_id, vulnerability_id, package_name, first_seen_at, last_seen_at, fixed_at,
          severity)
        SELECT pf.image_id, v.id, pk.name, pf.first_seen,
          CASE WHEN pf.only_old THEN p.new_at - interval '7 days' ELSE p.new_at END,
          CASE WHEN pf.only_old THEN p.new_at END, v.severity
        FROM plan_findings pf JOIN plan p ON p.image_id = pf.image_id JOIN vulns v ON v.idx = pf.vidx
        JOIN pkgs pk ON pk.idx = pf.pidx
        ORDER BY pf.only_new, p.seed, pf.k
        ON CONFLICT DO NOTHING`,
    },
    {
      label: "findings",
      // In scan order, as ingest writes them: a scan's findings sit together on disk.
      sql: `INSERT INTO findings (scan_id, fingerprint, vulnerability_id, aliases, package_name, package_type, purl,
          installed_version, fixed_versions, fix_state, severity, cvss_score, known_exploited, title, primary_url,
          first_seen_at)
        SELECT CASE WHEN s.which = 'old' THEN p.old_scan ELSE p.new_scan END,
          md5(v.id || pk.name || pf.k), v.id, v.aliases, pk.name, 'deb',
          'pkg:deb/debian/' || pk.name || '@1.' || (pf.vidx % 17) || '.' || pf.k, '1.' || (pf.vidx % 17) || '.' || pf.k,
          CASE WHEN (pf.vidx + pf.seed) % 20 < 9 THEN ARRAY['1.' || (pf.vidx % 17) || '.' || (pf.k + 1)] ELSE '{}'::text[] END,
          CASE WHEN (pf.vidx + pf.seed) % 20 < 9 THEN 'fixed' WHEN (pf.vidx + pf.seed) % 20 < 18 THEN 'not_fixed'
            WHEN (pf.vidx + pf.seed) % 20 = 18 THEN 'wont_fix' ELSE 'unknown' END,
          v.severity, v.cvss, v.known_exploited,
          pk.name || ': out-of-bounds read in parser ' || v.id, 'https://avd.aquasec.com/nvd/' || lower(v.id),
          CASE WHEN s.which = 'new' THEN pf.first_seen END
        FROM plan_findings pf JOIN plan p ON p.image_id = pf.image_id JOIN vulns v ON v.idx = pf.vidx
        JOIN pkgs pk ON pk.idx = pf.pidx CROSS JOIN (VALUES ('old'), ('new')) s(which)
        WHERE (s.which = 'old' AND NOT pf.only_new) OR (s.which = 'new' AND NOT pf.only_old)
        ORDER BY s.which DESC, p.seed, pf.k`,
    },
    {
      label: "acceptances",
      // Per image: half the images accept one finding (1 in 10 of those expired, 1 in 10 revoked);
      // a fifth carry two VEX not_affected statements (by alias where there is one); every team
      // accepts one base-image finding for all its images.
      sql: `INSERT INTO risk_acceptances (vulnerability_id, image_id, team_id, source, status, reason, accepted_by,
          accepted_by_name, expires_at, revoked_at, created_at)
        SELECT v.id, pf.image_id, NULL, 'slack', 'accepted', 'not reachable from the network', 'U0SEC' || (pf.seed % 50), 'sam',
          CASE WHEN pf.seed % 10 = 0 THEN ${at} - interval '3 days' ELSE ${at} + (pf.seed % 60) * interval '1 day' END,
          CASE WHEN pf.seed % 10 = 1 THEN ${at} - interval '1 day' END, ${at} - interval '20 days'
        FROM plan_findings pf JOIN vulns v ON v.idx = pf.vidx WHERE pf.k = 46 AND pf.seed % 2 = 0
        UNION ALL
        SELECT CASE WHEN v.aliases <> '{}' THEN v.aliases[1] ELSE v.id END, pf.image_id, NULL, 'vex', 'not_affected',
          'vulnerable code not in execute path', 'vex-import', NULL, NULL, NULL, ${at} - interval '30 days'
        FROM plan_findings pf JOIN vulns v ON v.idx = pf.vidx WHERE pf.k IN (47, 48) AND pf.seed % 5 = 0
        UNION ALL
        (SELECT DISTINCT ON (i.team_id) v.id, NULL::uuid, i.team_id, 'cli', 'accepted', 'compensating control: WAF rule',
          'U0LEAD' || p.base, 'lee', ${at} + (p.base % 30 + 1) * interval '1 day', NULL::timestamptz, ${at} - interval '10 days'
        FROM plan_findings pf JOIN plan p ON p.image_id = pf.image_id JOIN images i ON i.id = pf.image_id
        JOIN vulns v ON v.idx = pf.vidx WHERE pf.k = 45 AND i.team_id IS NOT NULL ORDER BY i.team_id)`,
    },
    {
      label: "rollouts",
      sql: `INSERT INTO rollouts (image_id, team_id, state, requested_by, candidate_digest)
        SELECT p.image_id, i.team_id, (ARRAY['done', 'done', 'done', 'failed', 'cancelled', 'rolled_back',
          'awaiting_approval', 'in_progress', 'rejected', 'expired'])[1 + p.seed % 10], 'U0DEV', 'sha256:' || md5(p.seed::text)
        FROM plan p JOIN images i ON i.id = p.image_id WHERE p.seed % 3 = 0`,
    },
  ];
}

/** Runs the statements on one connection (the temporary tables live in its session). */
export async function seedFleet(client: pg.Client, now: Date, log: (line: string) => void): Promise<void> {
  for (const step of seedStatements(now)) {
    const started = performance.now();
    await client.query(step.sql);
    log(`  seeded ${step.label} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}
