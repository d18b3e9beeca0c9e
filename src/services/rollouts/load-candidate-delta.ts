import { eq } from "drizzle-orm";
import {
  type CandidateDelta,
  candidateDelta,
  type DeltaFinding,
} from "../../core/rollout/candidate-delta.js";
import type { Severity } from "../../core/scan/normalized-report.js";
import type { Db } from "../../db/client.js";
import type { Tx } from "../../db/rollout-repository.js";
import { latestScanOfDigest } from "../../db/scan-repository.js";
import { findings } from "../../db/schema/index.js";

async function findingsOfDigest(
  db: Db | Tx,
  imageId: string,
  digest: string,
): Promise<DeltaFinding[] | null> {
  const scan = await latestScanOfDigest(db, imageId, digest);
  if (!scan) return null;
  const rows = await db
    .select({
      vulnerabilityId: findings.vulnerabilityId,
      packageName: findings.packageName,
      severity: findings.severity,
      knownExploited: findings.knownExploited,
    })
    .from(findings)
    .where(eq(findings.scanId, scan.id));
  return rows.map((r) => ({ ...r, severity: r.severity as Severity }));
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
  const after = candidate ? await findingsOfDigest(db, imageId, candidate) : null;
  if (after === null) return { candidateScanned: false, delta: null };
  // An image never scanned before: everything the candidate has counts as introduced.
  const before = running ? ((await findingsOfDigest(db, imageId, running)) ?? []) : [];
  return { candidateScanned: true, delta: candidateDelta(before, after) };
}
