import {
  type CandidateDelta,
  candidateDelta,
  type DeltaFinding,
} from "../../core/rollout/candidate-delta.js";
import type { Severity } from "../../core/scan/normalized-report.js";
import { type Db, driverOf } from "../../db/client.js";
import type { Tx } from "../../db/rollout-repository.js";
import type { Rows, Statement } from "../../db/statements.js";

// The digests are two scalar parameters ($3 null when nothing runs yet), not an array: with an
// array of unknown length the statement's generic plan never won against the custom ones, so
// Postgres planned it again at every execution (0.15 ms of its CPU per approval); with two scalars
// it is planned once per connection.
const FINDINGS_OF_DIGESTS = `
  SELECT l.digest, f.vulnerability_id, f.package_name, f.severity, f.known_exploited
    FROM (SELECT DISTINCT ON (digest) id, digest FROM scans
           WHERE image_id = $1 AND digest IN ($2, $3)
           ORDER BY digest, received_at DESC) l
    LEFT JOIN findings f ON f.scan_id = l.id`;

/**
 * The statement reading the findings of the newest scan of each of a rollout's digests (one
 * statement for both: it runs inside every approval's transaction, and is written out rather than
 * built, since building the DISTINCT ON subquery each time cost more CPU than Postgres spent on it).
 * Null when there is no candidate yet. `approveStage` sends it in its transaction's opening.
 */
export function candidateFindingsRead(
  imageId: string,
  running: string | null,
  candidate: string | null,
): Statement | null {
  if (!candidate) return null;
  return { text: FINDINGS_OF_DIGESTS, values: [imageId, candidate, running] };
}

type FindingOfDigest = {
  digest: string;
  vulnerability_id: string | null;
  package_name: string | null;
  severity: string | null;
  known_exploited: boolean | null;
};

/** The findings `candidateFindingsRead` returned, by digest; a digest never scanned is absent. */
function findingsByDigest(rows: Rows): Map<string, DeltaFinding[]> {
  const byDigest = new Map<string, DeltaFinding[]>();
  for (const r of rows as FindingOfDigest[]) {
    const list = byDigest.get(r.digest) ?? [];
    byDigest.set(r.digest, list);
    // A scan without findings comes back as one row with no finding.
    if (r.vulnerability_id === null || r.package_name === null || r.severity === null) continue;
    list.push({
      vulnerabilityId: r.vulnerability_id,
      packageName: r.package_name,
      severity: r.severity as Severity,
      knownExploited: r.known_exploited ?? false,
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

/**
 * The CVE delta between the running and the candidate digest, from their latest scans: from the
 * rows `candidateFindingsRead` returned when the caller sent it already, else read now.
 */
export async function loadCandidateDelta(
  db: Db | Tx,
  imageId: string,
  running: string | null,
  candidate: string | null,
  alreadyRead?: Rows,
): Promise<CandidateScanState> {
  const read = candidateFindingsRead(imageId, running, candidate);
  if (!read || !candidate) return { candidateScanned: false, delta: null };
  const rows = alreadyRead ?? ((await driverOf(db).query(read.text, [...read.values])).rows as Rows);
  const scanned = findingsByDigest(rows);
  const after = scanned.get(candidate);
  if (after === undefined) return { candidateScanned: false, delta: null };
  // An image never scanned before: everything the candidate has counts as introduced.
  const before = running ? (scanned.get(running) ?? []) : [];
  return { candidateScanned: true, delta: candidateDelta(before, after) };
}
