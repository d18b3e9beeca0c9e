import type { NormalizedFinding } from "../../src/core/scan/normalized-report.js";

/** The columns our ingest writes (scan-repository.ts insertFindings), in the same order. */
export const FINDINGS_COLUMNS = [
  "scan_id",
  "fingerprint",
  "vulnerability_id",
  "aliases",
  "package_name",
  "package_type",
  "purl",
  "package_path",
  "installed_version",
  "fixed_versions",
  "fix_state",
  "severity",
  "cvss_score",
  "cvss_vector",
  "epss",
  "known_exploited",
  "layer_digest",
  "layer_diff_id",
  "title",
  "primary_url",
] as const;

/** CSV quoting: an unquoted empty field is NULL, a quoted one is the empty string. */
const text = (s: string | null): string => (s === null ? "" : `"${s.replaceAll('"', '""')}"`);
const array = (xs: readonly string[]): string =>
  text(`{${xs.map((x) => `"${x.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`);
const num = (n: number | null): string => (n === null ? "" : String(n));

/**
 * The rows our ingest would store for one scan, as `COPY … WITH (FORMAT csv)` input: the same
 * values (titles and URLs cut to 2,000 characters as ours are), so the baseline writes what we write.
 */
export function findingsCsv(scanId: string, list: readonly NormalizedFinding[]): string {
  let out = "";
  for (const f of list) {
    out += `${[
      scanId,
      text(f.fingerprint),
      text(f.vulnerabilityId),
      array(f.aliases),
      text(f.packageName),
      text(f.packageType),
      text(f.purl),
      text(f.packagePath),
      text(f.installedVersion),
      array(f.fixedVersions),
      text(f.fixState),
      text(f.severity),
      num(f.cvssScore),
      text(f.cvssVector),
      num(f.epss),
      f.knownExploited ? "t" : "f",
      text(f.layerDigest),
      text(f.layerDiffId),
      text(f.title?.slice(0, 2000) ?? null),
      text(f.primaryUrl?.slice(0, 2000) ?? null),
    ].join(",")}\n`;
  }
  return out;
}
