import { randomUUID } from "node:crypto";
import { appendFile } from "node:fs/promises";
import { parseScanReport } from "../../src/core/scan/parse-scan-report.js";
import { digestOf, grypeReport, syntheticVulns, trivyReport } from "../../test/support/report-builders.js";
import { findingsCsv } from "./findings-csv.js";

export type Shape = "trivy" | "grype";
export type GroupSpec = {
  shape: Shape;
  size: number;
  count: number;
  /** Names the group's repositories; defaults to shape-size. */
  name?: string;
};

export type Upload = {
  repository: string;
  body: Buffer;
  findings: number;
  /** A second scan of an image already uploaded in this group: the diff path does real work. */
  rescan: boolean;
};

export type BuiltGroup = {
  spec: GroupSpec;
  uploads: Upload[];
  /** Scan ids the baseline rows reference; those scan rows must exist before the COPY. */
  baselineScanIds: string[];
  totalFindings: number;
  largestBody: number;
};

// One upload in four is a rebuild of an earlier image: 90% of its findings unchanged, 10% new,
// 10% fixed, so diffing and the lifecycle updates run as they do for a real fleet.
const RESCAN_EVERY = 4;

/**
 * The upload bodies of one group, each for a distinct digest so nothing is deduplicated, and the
 * same reports normalized by our own parser and appended to `csvFile` for the COPY baseline.
 */
export async function buildUploads(
  spec: GroupSpec,
  nextDigest: () => number,
  csvFile: string,
): Promise<BuiltGroup> {
  const rescans = Math.floor(spec.count / RESCAN_EVERY);
  const firsts = spec.count - rescans;
  const uploads: Upload[] = [];
  const baselineScanIds: string[] = [];
  for (let i = 0; i < spec.count; i++) {
    const rescan = i >= firsts;
    const k = rescan ? i - firsts : i;
    const repository = `ghcr.io/bench/${spec.name ?? `${spec.shape}-${spec.size}`}-${k}`;
    const vulns = syntheticVulns(spec.size, rescan ? Math.round(spec.size / 10) : 0);
    const image = `${repository}:1.${rescan ? 1 : 0}`;
    const digest = digestOf(nextDigest());
    const doc =
      spec.shape === "trivy" ? trivyReport({ image, digest, vulns }) : grypeReport({ image, digest, vulns });
    const parsed = parseScanReport(doc);
    if (!parsed.ok) throw new Error(`a generated ${spec.shape} report does not parse: ${parsed.message}`);
    const scanId = randomUUID();
    baselineScanIds.push(scanId);
    await appendFile(csvFile, findingsCsv(scanId, parsed.report.findings));
    uploads.push({
      repository,
      body: Buffer.from(JSON.stringify(doc)),
      findings: parsed.report.findings.length,
      rescan,
    });
  }
  return {
    spec,
    uploads,
    baselineScanIds,
    totalFindings: uploads.reduce((n, u) => n + u.findings, 0),
    largestBody: Math.max(...uploads.map((u) => u.body.length)),
  };
}
