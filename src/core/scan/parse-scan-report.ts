import { parseClairReport } from "./clair.js";
import { parseCycloneDxReport } from "./cyclonedx.js";
import { detectScanFormat } from "./detect-scan-format.js";
import { parseGrypeReport } from "./grype.js";
import type { ParseResult } from "./normalized-report.js";
import { parseTrivyReport } from "./trivy.js";

/**
 * A scan report (already parsed JSON) in the normalized shape, or why it cannot be used: a format
 * we do not read (`unsupported_format`, with how to produce one we do) or a damaged report
 * (`invalid_report`, naming where). Never throws for a parsed JSON value; a findings list left
 * unparsed (`JsonList`, from `parseJsonBody`) throws `malformed_json` when an entry is not JSON.
 */
export function parseScanReport(doc: unknown): ParseResult {
  const detected = detectScanFormat(doc);
  if (!detected.ok) return detected;
  switch (detected.format) {
    case "trivy":
    case "trivy-legacy":
    case "trivy-k8s":
      return parseTrivyReport(doc, detected.format);
    case "grype":
      return parseGrypeReport(doc);
    case "cyclonedx":
      return parseCycloneDxReport(doc);
    case "clair":
      return parseClairReport(doc);
  }
}
