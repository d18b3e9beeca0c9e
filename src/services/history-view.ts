import { and, desc, eq, inArray, isNotNull, or } from "drizzle-orm";
import { z } from "zod";
import type { AcceptedRisk } from "../core/digest/accepted-risk.js";
import type { FinishedRollout, ImageHistory, ScanHistoryEntry } from "../core/digest/image-history.js";
import type { NamedImage } from "../core/digest/named-image.js";
import { type SeverityCounts, severityCounts } from "../core/digest/severity-counts.js";
import type { Db } from "../db/client.js";
import { images, riskAcceptances, rollouts, scans } from "../db/schema/index.js";

/**
 * An image scanned on every CI build can have thousands of scans; the message shows 15 and counts
 * the rest, so a bounded read keeps the reply within Slack's three seconds.
 */
const HISTORY_SCAN_LIMIT = 200;

// A diff that omits a severity found none of it.
const count = z.number().default(0);
const counts = z.object({
  critical: count,
  high: count,
  medium: count,
  low: count,
  negligible: count,
  unknown: count,
});

const scanRow = z.object({
  receivedAt: z.date(),
  digest: z.string(),
  scannerName: z.string(),
  scannerVersion: z.string().nullable(),
  rolloutId: z.number().nullable(),
  diff: z.object({ newBySeverity: counts, fixedBySeverity: counts }),
});

const rolloutRow = z.object({
  id: z.number(),
  updatedAt: z.date(),
  runningDigest: z.string().nullable(),
  candidateDigest: z.string(),
  state: z.enum(["done", "rolled_back"]),
});

const acceptanceRow = z.object({
  vulnerabilityId: z.string(),
  imageId: z.string().nullable(),
  createdAt: z.date(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
  reason: z.string(),
  acceptedBy: z.string(),
  acceptedByName: z.string().nullable(),
});

/** Scans newest first, finished rollouts and every acceptance (in force or not) of one image; null if unknown. */
export async function historyView(db: Db, q: { imageId: string; now: Date }): Promise<ImageHistory | null> {
  const [img] = await db
    .select({
      id: images.id,
      configId: images.configId,
      repository: images.repository,
      teamId: images.teamId,
    })
    .from(images)
    .where(eq(images.id, q.imageId));
  if (!img) return null;
  const image: NamedImage = {
    imageId: img.id,
    name: img.configId ?? img.repository,
    repository: img.repository,
  };

  const scanRows = z.array(scanRow).parse(
    await db
      .select({
        receivedAt: scans.receivedAt,
        digest: scans.digest,
        scannerName: scans.scannerName,
        scannerVersion: scans.scannerVersion,
        rolloutId: scans.rolloutId,
        diff: scans.diff,
      })
      .from(scans)
      .where(eq(scans.imageId, img.id))
      .orderBy(desc(scans.receivedAt))
      .limit(HISTORY_SCAN_LIMIT),
  );
  const history: ScanHistoryEntry[] = scanRows.map((s) => ({
    at: s.receivedAt,
    digest: s.digest,
    scanner: s.scannerVersion ? `${s.scannerName} ${s.scannerVersion}` : s.scannerName,
    newFindings: s.diff.newBySeverity,
    fixedFindings: s.diff.fixedBySeverity,
  }));

  const rolloutRows = z.array(rolloutRow).parse(
    await db
      .select({
        id: rollouts.id,
        updatedAt: rollouts.updatedAt,
        runningDigest: rollouts.runningDigest,
        candidateDigest: rollouts.candidateDigest,
        state: rollouts.state,
      })
      .from(rollouts)
      .where(
        and(
          eq(rollouts.imageId, img.id),
          inArray(rollouts.state, ["done", "rolled_back"]),
          isNotNull(rollouts.candidateDigest),
        ),
      ),
  );
  // What a rollout fixed is what the scan of its candidate found gone; scans arrive newest first.
  const fixedBy = new Map<number, SeverityCounts>();
  for (const s of scanRows)
    if (s.rolloutId !== null && !fixedBy.has(s.rolloutId)) fixedBy.set(s.rolloutId, s.diff.fixedBySeverity);
  const finished: FinishedRollout[] = rolloutRows.map((r) => ({
    rolloutId: r.id,
    // A finished rollout is not touched again, so its last update is when it finished.
    finishedAt: r.updatedAt,
    fromDigest: r.runningDigest,
    toDigest: r.candidateDigest,
    fixed: fixedBy.get(r.id) ?? severityCounts(),
    outcome: r.state === "done" ? "shipped" : "rolled_back",
  }));

  const ra = riskAcceptances;
  const covers =
    img.teamId === null ? eq(ra.imageId, img.id) : or(eq(ra.imageId, img.id), eq(ra.teamId, img.teamId));
  const acceptanceRows = z.array(acceptanceRow).parse(
    await db
      .select({
        vulnerabilityId: ra.vulnerabilityId,
        imageId: ra.imageId,
        createdAt: ra.createdAt,
        expiresAt: ra.expiresAt,
        revokedAt: ra.revokedAt,
        reason: ra.reason,
        acceptedBy: ra.acceptedBy,
        acceptedByName: ra.acceptedByName,
      })
      .from(ra)
      .where(covers),
  );
  const acceptances: AcceptedRisk[] = acceptanceRows.map((a) => ({
    vulnerabilityId: a.vulnerabilityId,
    image: a.imageId === null ? null : image,
    acceptedAt: a.createdAt,
    until: a.expiresAt,
    revokedAt: a.revokedAt,
    reason: a.reason,
    acceptedBy: a.acceptedBy,
    acceptedByName: a.acceptedByName,
  }));

  return { image, generatedAt: q.now, scans: history, rollouts: finished, acceptances };
}
