import { and, desc, eq, inArray } from "drizzle-orm";
import {
  type CandidateDelta,
  candidateDelta,
  type DeltaFinding,
} from "../../core/rollout/candidate-delta.js";
import type { Severity } from "../../core/scan/normalized-report.js";
import type { Db } from "../../db/client.js";
import type { Tx } from "../../db/rollout-repository.js";
import { findings, scans } from "../../db/schema/index.js";

/**
 * The findings of the newest scan of each digest, by digest; a digest never scanned is absent.
 * One statement for both digests of a rollout (it runs inside every approval's transaction).
 */
async function findingsOfDigests(
  db: Db | Tx,
  imageId: string,
  digests: string[],
): Promise<Map<string, DeltaFinding[]>> {
  const latest = db
    .selectDistinctOn([scans.digest], { id: scans.id, digest: scans.digest })
    .from(scans)
    .where(and(eq(scans.imageId, imageId), inArray(scans.digest, digests)))
    .orderBy(scans.digest, desc(scans.receivedAt))
    .as("latest");
  const rows = await db
    .select({
      digest: latest.digest,
      vulnerabilityId: findings.vulnerabilityId,
      packageName: findings.packageName,
      severity: findings.severity,
      knownExploited: findings.knownExploited,
    })
    .from(latest)
    .leftJoin(findings, eq(findings.scanId, latest.id));
  const byDigest = new Map<string, DeltaFinding[]>();
  for (const r of rows) {
    const list = byDigest.get(r.digest) ?? [];
    byDigest.set(r.digest, list);
    // A scan without findings comes back as one row with no finding.
    if (r.vulnerabilityId === null || r.packageName === null || r.severity === null) continue;
    list.push({
      vulnerabilityId: r.vulnerabilityId,
      packageName: r.packageName,
      severity: r.severity as Severity,
      knownExploited: r.knownExploited ?? false,
    });
  }
  return byDigest;
}

export type CandidateScanState = {
  /** Whether the candidate digest has a scan: no stage can be approved before it does. */
  candidateScanned: boolean;
  /** Null until both digests have a scan. */
  delta: CandidateDelta | null;
};

/** The CVE delta between the running and the candidate digest, from their latest scans. */
export async function loadCandidateDelta(
  db: Db | Tx,
  imageId: string,
  running: string | null,
  candidate: string | null,
): Promise<CandidateScanState> {
  if (!candidate) return { candidateScanned: false, delta: null };
  const scanned = await findingsOfDigests(db, imageId, running ? [candidate, running] : [candidate]);
  const after = scanned.get(candidate);
  if (after === undefined) return { candidateScanned: false, delta: null };
  // An image never scanned before: everything the candidate has counts as introduced.
  const before = running ? (scanned.get(running) ?? []) : [];
  return { candidateScanned: true, delta: candidateDelta(before, after) };
}
