/**
 * The shape every scanner's report is normalized to. Ingest, diffing and the SLA clocks only ever
 * see this, so a new scanner is one more parser, not a change elsewhere.
 */
export type Severity = "critical" | "high" | "medium" | "low" | "negligible" | "unknown";

export type FixState = "fixed" | "not_fixed" | "wont_fix" | "unknown";

export type ScanFormat = "trivy" | "trivy-legacy" | "trivy-k8s" | "grype" | "cyclonedx" | "clair";

export type NormalizedFinding = {
  vulnerabilityId: string;
  /** Other ids of the same vulnerability (CVE, GHSA, vendor advisories); never repeats `vulnerabilityId`. */
  aliases: string[];
  packageName: string;
  packageType: string | null;
  purl: string | null;
  packagePath: string | null;
  installedVersion: string | null;
  fixedVersions: string[];
  fixState: FixState;
  severity: Severity;
  cvssScore: number | null;
  cvssVector: string | null;
  epss: number | null;
  knownExploited: boolean;
  /** Compressed layer (blob) digest, as in the image manifest. */
  layerDigest: string | null;
  /** Uncompressed layer digest (rootfs diff_id): what base-image attribution compares. */
  layerDiffId: string | null;
  title: string | null;
  primaryUrl: string | null;
  /** sha256 hex of (vulnerabilityId, packageName, installedVersion, packagePath, packageType). */
  fingerprint: string;
};

export type ImageIdentity = { repository: string | null; tag: string | null; digest: string | null };

export type NormalizedReport = {
  format: ScanFormat;
  scanner: { name: string; version: string | null };
  image: ImageIdentity;
  createdAt: string | null;
  os: { family: string; name: string } | null;
  /** The image's layers (`rootfs.diff_ids`), bottom first, when the report lists them; else []. */
  layers: string[];
  /** Deduplicated by fingerprint, in the order the report lists them. */
  findings: NormalizedFinding[];
  /** Entries of the report that could not be a finding (no vulnerability id or no package name). */
  skippedEntries: number;
};

export type ParseFailure = { ok: false; code: "unsupported_format" | "invalid_report"; message: string };

export type ParseResult = { ok: true; report: NormalizedReport } | ParseFailure;
