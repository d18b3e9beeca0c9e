import type { WebClient } from "@slack/web-api";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { ChannelGate } from "../adapters/channel-gate.js";
import type { Severity } from "../core/scan/normalized-report.js";
import { slaClock } from "../core/sla/sla-clock.js";
import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { Db } from "../db/client.js";
import { slackMessages } from "../db/schema/index.js";
import type { AlertFinding } from "../render/render-new-findings-alert.js";
import { renderNewFindingsAlert } from "../render/render-new-findings-alert.js";
import { type BurstImage, renderNewFindingsBurst } from "../render/render-new-findings-burst.js";
import { type SlackPost, upsertSlackMessage } from "./upsert-slack-message.js";

export const newFindingsPayload = z.union([
  z.object({ teamId: z.string().min(1), windowStart: z.iso.datetime(), windowEnd: z.iso.datetime() }),
  // Intents written before alerts were aggregated: one scan, delivered as a window of its own.
  z.object({ scanId: z.uuid() }),
]);
export type NewFindingsPayload = z.infer<typeof newFindingsPayload>;

const row = z.object({
  image_id: z.string(),
  repository: z.string(),
  config_id: z.string().nullable(),
  digest: z.string(),
  received_at: z.coerce.date(),
  scanner: z.string(),
  vulnerability_id: z.string(),
  package_name: z.string(),
  installed_version: z.string().nullable(),
  fixed_versions: z.array(z.string()),
  severity: z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]),
  known_exploited: z.boolean(),
  cvss_score: z.number().nullable(),
  first_seen_at: z.coerce.date(),
});
type Row = z.infer<typeof row>;
const teamRow = z.object({ name: z.string(), channel: z.string() });
const legacyScan = z.object({ team_id: z.string().nullable(), received_at: z.coerce.date() });

const SEVERITY_ORDER: Severity[] = ["critical", "high", "medium", "low", "negligible", "unknown"];
type Deps = {
  db: Db;
  slack: WebClient;
  gate?: ChannelGate;
  sla: SlaPolicy;
  /** An earlier try of this alert, recorded at this time, may have posted it (see upsertSlackMessage). */
  retryOf?: Date | undefined;
};
type Window = { teamId: string; start: Date; end: Date };

/**
 * Posts one "new fixable critical / known-exploited" alert per team and aggregation window: every
 * such finding first seen by a scan of the team's images received in [windowStart, windowEnd).
 * The findings are re-read at delivery, so a retry says the same thing.
 */
export async function notifyNewFindings(
  deps: Deps,
  payload: NewFindingsPayload,
): Promise<{ posted: boolean; images?: number; replies?: number }> {
  const window = await resolveWindow(deps.db, payload);
  if (!window) return { posted: false };
  const t = await deps.db.execute(sql`SELECT name, channel FROM teams WHERE id = ${window.teamId}`);
  const team = t.rows[0] ? teamRow.parse(t.rows[0]) : null;
  if (!team) return { posted: false };
  const images = await findAlertingImages(deps, window);
  const first = images[0];
  if (!first) return { posted: false };
  const key = `alert:new-findings:${window.teamId}:${window.start.toISOString()}`;
  if (images.length === 1) {
    const message = renderNewFindingsAlert({
      image: { name: first.name, repository: first.repository, digest: first.digest, imageId: first.imageId },
      team: team.name,
      scannedAt: first.scannedAt,
      scanner: first.scanner,
      findings: first.findings,
    });
    await postOnce(deps, { key, channel: team.channel, ...message });
    return { posted: true, images: 1, replies: 0 };
  }
  const { message, thread } = renderNewFindingsBurst({
    team: team.name,
    images,
    windowStart: window.start,
    windowEnd: window.end,
  });
  // A paced channel defers the effect between posts; on the retry, what was posted stays as it
  // is (the window is closed, so it would say the same), and its send slot goes to the next reply.
  await postOnce(deps, { key, channel: team.channel, ...message });
  for (const [i, reply] of thread.entries()) {
    await postOnce(deps, { key: `${key}:thread:${i}`, channel: team.channel, threadKey: key, ...reply });
  }
  return { posted: true, images: images.length, replies: thread.length };
}

async function postOnce(deps: Deps, post: SlackPost): Promise<void> {
  const posted = await deps.db
    .select({ key: slackMessages.key })
    .from(slackMessages)
    .where(eq(slackMessages.key, post.key));
  if (posted.length === 0)
    await upsertSlackMessage(deps.db, deps.slack, post, deps.gate, { retryOf: deps.retryOf });
}

async function resolveWindow(db: Db, payload: NewFindingsPayload): Promise<Window | null> {
  if ("teamId" in payload) {
    return { teamId: payload.teamId, start: new Date(payload.windowStart), end: new Date(payload.windowEnd) };
  }
  const r = await db.execute(sql`
    SELECT i.team_id, s.received_at FROM scans s JOIN images i ON i.id = s.image_id WHERE s.id = ${payload.scanId}`);
  const scan = r.rows[0] ? legacyScan.parse(r.rows[0]) : null;
  if (!scan?.team_id) return null;
  return { teamId: scan.team_id, start: scan.received_at, end: new Date(scan.received_at.getTime() + 1) };
}

type AlertingImage = BurstImage & { scannedAt: Date; scanner: string };

async function findAlertingImages(deps: Deps, w: Window): Promise<AlertingImage[]> {
  const r = await deps.db.execute(sql`
    SELECT DISTINCT ON (i.id, f.vulnerability_id, f.package_name)
      i.id AS image_id, i.repository, i.config_id, s.digest, s.received_at,
      s.scanner_name || coalesce(' ' || s.scanner_version, '') AS scanner,
      f.vulnerability_id, f.package_name, f.installed_version, f.fixed_versions, f.severity,
      f.known_exploited, f.cvss_score, l.first_seen_at
    FROM findings f
    JOIN scans s ON s.id = f.scan_id
    JOIN images i ON i.id = s.image_id
    JOIN finding_lifecycle l ON l.image_id = s.image_id AND l.vulnerability_id = f.vulnerability_id AND l.package_name = f.package_name
    WHERE i.team_id = ${w.teamId}
      AND s.received_at >= ${w.start.toISOString()} AND s.received_at < ${w.end.toISOString()}
      AND l.first_seen_at = s.received_at
      AND ((f.severity = 'critical' AND f.fix_state = 'fixed') OR f.known_exploited)
    ORDER BY i.id, f.vulnerability_id, f.package_name, s.received_at DESC`);
  const byImage = new Map<string, AlertingImage>();
  for (const x of r.rows.map((raw) => row.parse(raw))) {
    const image = byImage.get(x.image_id) ?? newImage(x);
    byImage.set(x.image_id, image);
    // The image is shown as of its latest scan in the window.
    if (x.received_at > image.scannedAt)
      Object.assign(image, { digest: x.digest, scannedAt: x.received_at, scanner: x.scanner });
    image.findings.push(toFinding(x, deps.sla));
  }
  const images = [...byImage.values()];
  for (const image of images) image.findings.sort(byUrgency);
  return images.sort(
    (a, b) =>
      count(b, (f) => f.knownExploited) - count(a, (f) => f.knownExploited) ||
      count(b, (f) => f.severity === "critical") - count(a, (f) => f.severity === "critical") ||
      a.name.localeCompare(b.name),
  );
}

const newImage = (x: Row): AlertingImage => ({
  imageId: x.image_id,
  name: x.config_id ?? x.repository,
  repository: x.repository,
  digest: x.digest,
  scannedAt: x.received_at,
  scanner: x.scanner,
  findings: [],
});

const count = (i: BurstImage, p: (f: AlertFinding) => boolean) => i.findings.filter(p).length;

function toFinding(f: Row, sla: SlaPolicy): AlertFinding {
  return {
    vulnerabilityId: f.vulnerability_id,
    packageName: f.package_name,
    installedVersion: f.installed_version,
    fixedVersions: f.fixed_versions,
    severity: f.severity,
    knownExploited: f.known_exploited,
    cvssScore: f.cvss_score,
    dueAt: slaClock(
      { severity: f.severity, firstSeenAt: f.first_seen_at, knownExploited: f.known_exploited },
      sla,
      f.first_seen_at,
    ).dueAt,
  };
}

const byUrgency = (a: AlertFinding, b: AlertFinding) =>
  Number(b.knownExploited) - Number(a.knownExploited) ||
  SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
  (b.cvssScore ?? 0) - (a.cvssScore ?? 0) ||
  a.vulnerabilityId.localeCompare(b.vulnerabilityId);
