import {
  type CandidateDelta,
  candidateDelta,
  type DeltaFinding,
} from "../../core/rollout/candidate-delta.js";
import type { Severity } from "../../core/scan/normalized-report.js";
import { type Db, driverOf } from "../../db/client.js";
import type { Tx } from "../../db/rollout-repository.js";

const FINDINGS_OF_DIGESTS = `
  SELECT l.digest, f.vulnerability_id, f.package_name, f.severity, f.known_exploited
    FROM (SELECT DISTINCT ON (digest) id, digest FROM scans
           WHERE image_id = $1 AND digest = ANY($2::text[])
           ORDER BY digest, received_at DESC) l
    LEFT JOIN findings f ON f.scan_id = l.id`;

/**
 * The findings of the newest scan of each digest, by digest; a digest never scanned is absent.
 * One statement for both digests of a rollout (it runs inside every approval's transaction).
 */
async function findingsOfDigests(
  db: Db | Tx,
  imageId: string,
  digests: string[],
): Promise<Map<string, DeltaFinding[]>> {
  // Written out rather than built, and prepared once per connection: it runs in every
  // approval's transaction, and building the DISTINCT ON subquery and mapping each finding row
  // cost more CPU than Postgres spent on it.
  const found = await driverOf(db).query<{
    digest: string;
    vulnerability_id: string | null;
    package_name: string | null;
    severity: string | null;
    known_exploited: boolean | null;
  }>({ name: "pp_findings_of_digests", text: FINDINGS_OF_DIGESTS, values: [imageId, digests] });
  const rows = found.rows.map((r) => ({
    digest: r.digest,
    vulnerabilityId: r.vulnerability_id,
    packageName: r.package_name,
    severity: r.severity,
    knownExploited: r.known_exploited,
  }));
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
