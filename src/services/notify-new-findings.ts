import type { WebClient } from "@slack/web-api";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { ChannelGate } from "../adapters/channel-gate.js";
import type { Severity } from "../core/scan/normalized-report.js";
import { slaClock } from "../core/sla/sla-clock.js";
import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { Db } from "../db/client.js";
import { renderNewFindingsAlert } from "../render/render-new-findings-alert.js";
import { upsertSlackMessage } from "./upsert-slack-message.js";

export const newFindingsPayload = z.object({ scanId: z.string().uuid() });

const row = z.object({
  vulnerability_id: z.string(),
  package_name: z.string(),
  installed_version: z.string().nullable(),
  fixed_versions: z.array(z.string()),
  severity: z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]),
  known_exploited: z.boolean(),
  cvss_score: z.number().nullable(),
  first_seen_at: z.coerce.date(),
});
const head = z.object({
  repository: z.string(),
  config_id: z.string().nullable(),
  team_id: z.string().nullable(),
  team_name: z.string().nullable(),
  channel: z.string().nullable(),
  digest: z.string(),
  received_at: z.coerce.date(),
  scanner: z.string(),
});

const SEVERITY_ORDER: Severity[] = ["critical", "high", "medium", "low", "negligible", "unknown"];

/**
 * Posts the "new fixable critical / known-exploited" alert for one scan to its team's channel.
 * The findings are re-read: those first seen by this very scan, so a retry says the same thing.
 */
export async function notifyNewFindings(
  deps: { db: Db; slack: WebClient; gate?: ChannelGate; sla: SlaPolicy },
  scanId: string,
): Promise<{ posted: boolean }> {
  const h = await deps.db.execute(sql`
    SELECT i.repository, i.config_id, i.team_id, t.name AS team_name, t.channel, s.digest, s.received_at,
      s.scanner_name || coalesce(' ' || s.scanner_version, '') AS scanner
    FROM scans s JOIN images i ON i.id = s.image_id LEFT JOIN teams t ON t.id = i.team_id
    WHERE s.id = ${scanId}`);
  const scan = h.rows[0] ? head.parse(h.rows[0]) : null;
  if (!scan?.channel || !scan.team_id) return { posted: false };
  const r = await deps.db.execute(sql`
    SELECT DISTINCT ON (f.vulnerability_id, f.package_name) f.vulnerability_id, f.package_name, f.installed_version,
      f.fixed_versions, f.severity, f.known_exploited, f.cvss_score, l.first_seen_at
    FROM findings f
    JOIN scans s ON s.id = f.scan_id
    JOIN finding_lifecycle l ON l.image_id = s.image_id AND l.vulnerability_id = f.vulnerability_id AND l.package_name = f.package_name
    WHERE f.scan_id = ${scanId} AND l.first_seen_at = s.received_at
      AND ((f.severity = 'critical' AND f.fix_state = 'fixed') OR f.known_exploited)
    ORDER BY f.vulnerability_id, f.package_name`);
  const findings = r.rows
    .map((x) => row.parse(x))
    .map((f) => ({
      vulnerabilityId: f.vulnerability_id,
      packageName: f.package_name,
      installedVersion: f.installed_version,
      fixedVersions: f.fixed_versions,
      severity: f.severity,
      knownExploited: f.known_exploited,
      cvssScore: f.cvss_score,
      dueAt: slaClock(
        { severity: f.severity, firstSeenAt: f.first_seen_at, knownExploited: f.known_exploited },
        deps.sla,
        f.first_seen_at,
      ).dueAt,
    }))
    .sort(
      (a, b) =>
        Number(b.knownExploited) - Number(a.knownExploited) ||
        SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
        (b.cvssScore ?? 0) - (a.cvssScore ?? 0) ||
        a.vulnerabilityId.localeCompare(b.vulnerabilityId),
    );
  if (findings.length === 0) return { posted: false };
  const message = renderNewFindingsAlert({
    image: { name: scan.config_id ?? scan.repository, repository: scan.repository, digest: scan.digest },
    team: scan.team_name ?? scan.team_id,
    scannedAt: scan.received_at,
    scanner: scan.scanner,
    findings,
  });
  await upsertSlackMessage(
    deps.db,
    deps.slack,
    {
      key: `alert:new-findings:${scanId}`,
      channel: scan.channel,
      text: message.text,
      blocks: message.blocks,
    },
    deps.gate,
  );
  return { posted: true };
}
