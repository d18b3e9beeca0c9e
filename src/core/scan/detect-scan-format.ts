import { isRecord } from "./lenient.js";
import type { ScanFormat } from "./normalized-report.js";

export type DetectResult =
  | { ok: true; format: ScanFormat }
  | { ok: false; code: "unsupported_format"; message: string };

export const acceptedFormatsHelp =
  "patchpilot reads JSON vulnerability reports from Trivy (`trivy image -f json -o report.json IMAGE`), " +
  "Grype (`grype IMAGE -o json > report.json`), CycloneDX with a vulnerabilities list " +
  "(`trivy image -f cyclonedx --scanners vuln -o report.cdx.json IMAGE` or `grype IMAGE -o cyclonedx-json > report.cdx.json`) " +
  "and Clair v4 vulnerability reports.";

const packageClasses = new Set(["os-pkgs", "lang-pkgs"]);

/** Which scanner wrote `doc` (parsed JSON), judged from its content alone, or why it cannot be read. */
export function detectScanFormat(doc: unknown): DetectResult {
  if (Array.isArray(doc)) {
    // Trivy before SchemaVersion 2 wrote a bare list of {Target, Vulnerabilities}.
    if (doc.length > 0 && doc.every((r) => isRecord(r) && "Target" in r))
      return { ok: true, format: "trivy-legacy" };
    return refuse("This JSON is a list, but not a Trivy report.");
  }
  if (!isRecord(doc)) return refuse("The report is not a JSON object.");

  if ("ClusterName" in doc) {
    if ("Resources" in doc || "Vulnerabilities" in doc) {
      const results = k8sResults(doc);
      if (onlyNonPackageResults(results)) return refuse(trivyWithoutVulnerabilities);
      return { ok: true, format: "trivy-k8s" };
    }
    return refuse(trivyWithoutVulnerabilities);
  }
  if ("SchemaVersion" in doc) {
    if (doc.SchemaVersion !== 2) {
      return refuse(
        `This Trivy report has SchemaVersion ${shown(doc.SchemaVersion)}; only SchemaVersion 2 (Trivy 0.20 and later) and the older list format are read.`,
      );
    }
    if (onlyNonPackageResults(Array.isArray(doc.Results) ? doc.Results : []))
      return refuse(trivyWithoutVulnerabilities);
    return { ok: true, format: "trivy" };
  }
  if ("matches" in doc) return { ok: true, format: "grype" };
  if (doc.bomFormat === "CycloneDX") {
    if ("vulnerabilities" in doc) return { ok: true, format: "cyclonedx" };
    return refuse(
      'This CycloneDX file is an SBOM without vulnerability data (it has no "vulnerabilities" list).',
    );
  }
  if ("manifest_hash" in doc && ("package_vulnerabilities" in doc || "vulnerabilities" in doc)) {
    return { ok: true, format: "clair" };
  }
  if ("runs" in doc && ("$schema" in doc || "version" in doc)) {
    return refuse(
      "This is a SARIF file: it has no installed or fixed package versions, so patches cannot be tracked from it.",
    );
  }
  if ("spdxVersion" in doc || "SPDXID" in doc) {
    return refuse("This is an SPDX SBOM: it lists packages but no vulnerabilities.");
  }
  if (isVexDocument(doc))
    return refuse("This is a VEX document, not a scan report: upload it as VEX instead.");
  return refuse("This JSON is not a vulnerability report patchpilot recognises.");
}

const trivyWithoutVulnerabilities =
  "This Trivy report has no vulnerability results (only misconfigurations, secrets or licenses): run Trivy with `--scanners vuln`.";

function shown(value: unknown): string {
  if (typeof value === "number") return String(value);
  return typeof value === "string" ? JSON.stringify(value.slice(0, 20)) : "of an unknown kind";
}

function refuse(reason: string): DetectResult {
  return { ok: false, code: "unsupported_format", message: `${reason} ${acceptedFormatsHelp}` };
}

/**
 * True when every result is of a class that never carries vulnerabilities. Trivy leaves out the
 * empty `Vulnerabilities` list of a clean image, so "no vulnerabilities" alone would also refuse a
 * clean scan; only the package classes tell that a vulnerability scan ran.
 */
function onlyNonPackageResults(results: readonly unknown[]): boolean {
  if (results.length === 0) return false;
  return results.every(
    (r) =>
      isRecord(r) && !("Vulnerabilities" in r) && typeof r.Class === "string" && !packageClasses.has(r.Class),
  );
}

function k8sResults(doc: Record<string, unknown>): unknown[] {
  const resources = Array.isArray(doc.Resources)
    ? doc.Resources
    : Array.isArray(doc.Vulnerabilities)
      ? doc.Vulnerabilities
      : [];
  const results: unknown[] = [];
  for (const resource of resources) {
    if (!isRecord(resource) || !Array.isArray(resource.Results)) continue;
    for (const result of resource.Results) results.push(result);
  }
  return results;
}

function isVexDocument(doc: Record<string, unknown>): boolean {
  const context = doc["@context"];
  if (typeof context === "string" && context.startsWith("https://openvex.dev/ns")) return true;
  return isRecord(doc.document) && ("product_tree" in doc || "vulnerabilities" in doc);
}
