import { z } from "zod";
import { buildFinding } from "./build-finding.js";
import { dedupeFindings } from "./dedupe-findings.js";
import {
  entryList,
  isRecord,
  lenientList,
  lenientMap,
  optional,
  optionalNumber,
  optionalText,
  textList,
} from "./lenient.js";
import { listProblem, notAnObject } from "./list-problem.js";
import { fixStateFromTrivyStatus } from "./normalize-fix-state.js";
import { type ImageRef, parseImageRef } from "./normalize-image-ref.js";
import { normalizeSeverity } from "./normalize-severity.js";
import type { ImageIdentity, NormalizedFinding, NormalizedReport, ParseResult } from "./normalized-report.js";
import { type CvssCandidate, pickCvss } from "./pick-cvss.js";
import { splitVersions } from "./split-versions.js";

const cvssBySource = z.object({
  V3Score: optionalNumber,
  V3Vector: optionalText,
  V40Score: optionalNumber,
  V40Vector: optionalText,
  V2Score: optionalNumber,
  V2Vector: optionalText,
});

const vulnerabilitySchema = z.object({
  VulnerabilityID: optionalText,
  VendorIDs: textList,
  PkgName: optionalText,
  PkgPath: optionalText,
  PkgIdentifier: optional(z.object({ PURL: optionalText })),
  InstalledVersion: optionalText,
  FixedVersion: optionalText,
  Status: optionalText,
  Layer: optional(z.object({ Digest: optionalText, DiffID: optionalText })),
  SeveritySource: optionalText,
  PrimaryURL: optionalText,
  Title: optionalText,
  Severity: optionalText,
  CVSS: lenientMap(cvssBySource),
});

const resultSchema = z.object({
  Target: optionalText,
  Class: optionalText,
  Type: optionalText,
  Vulnerabilities: entryList(vulnerabilitySchema),
});

const reportSchema = z.object({
  CreatedAt: optionalText,
  ArtifactName: optionalText,
  ArtifactType: optionalText,
  Trivy: optional(z.object({ Version: optionalText })),
  Metadata: optional(
    z.object({
      OS: optional(z.object({ Family: optionalText, Name: optionalText })),
      RepoTags: textList,
      RepoDigests: textList,
      DiffIDs: textList,
      ImageConfig: optional(z.object({ rootfs: optional(z.object({ diff_ids: textList })) })),
    }),
  ),
  Results: lenientList(resultSchema),
});

const k8sResourceSchema = z.object({ Results: lenientList(resultSchema) });
const k8sReportSchema = z.object({
  Resources: lenientList(k8sResourceSchema),
  Vulnerabilities: lenientList(k8sResourceSchema),
});

type TrivyResult = z.output<typeof resultSchema>;
type TrivyVulnerability = z.output<typeof vulnerabilitySchema>;
type TrivyFormat = "trivy" | "trivy-legacy" | "trivy-k8s";

type Header = Pick<NormalizedReport, "scanner" | "image" | "createdAt" | "os" | "layers">;

const bareHeader: Header = {
  scanner: { name: "trivy", version: null },
  image: { repository: null, tag: null, digest: null },
  createdAt: null,
  os: null,
  layers: [],
};

/** Trivy JSON: SchemaVersion 2 (image, filesystem, repository, SBOM), the older bare list, and k8s cluster reports. */
export function parseTrivyReport(doc: unknown, format: TrivyFormat): ParseResult {
  const problem = shapeProblem(doc, format);
  if (problem !== null) return { ok: false, code: "invalid_report", message: problem };

  if (format === "trivy-legacy")
    return withFindings(format, lenientList(resultSchema).parse(doc), bareHeader);
  if (format === "trivy-k8s") {
    const k8s = k8sReportSchema.parse(doc);
    // Older k8s reports list workloads under "Vulnerabilities", newer ones under "Resources".
    const resources = k8s.Resources.length > 0 ? k8s.Resources : k8s.Vulnerabilities;
    return withFindings(
      format,
      resources.flatMap((r) => r.Results),
      bareHeader,
    );
  }
  const parsed = reportSchema.parse(doc);
  const os = parsed.Metadata?.OS;
  return withFindings(format, parsed.Results, {
    scanner: { name: "trivy", version: parsed.Trivy?.Version ?? null },
    image: trivyImage(parsed),
    createdAt: parsed.CreatedAt,
    os: os?.Family ? { family: os.Family, name: os.Name ?? "" } : null,
    layers:
      (parsed.Metadata?.DiffIDs.length ?? 0) > 0
        ? (parsed.Metadata?.DiffIDs ?? [])
        : (parsed.Metadata?.ImageConfig?.rootfs?.diff_ids ?? []),
  });
}

function withFindings(format: TrivyFormat, results: readonly TrivyResult[], header: Header): ParseResult {
  const findings: NormalizedFinding[] = [];
  let skippedEntries = 0;
  for (const result of results) {
    for (const vulnerability of result.Vulnerabilities) {
      const finding = vulnerability === null ? null : toFinding(result, vulnerability);
      if (finding === null) skippedEntries++;
      else findings.push(finding);
    }
  }
  return { ok: true, report: { format, ...header, findings: dedupeFindings(findings), skippedEntries } };
}

function toFinding(result: TrivyResult, v: TrivyVulnerability): NormalizedFinding | null {
  if (v.VulnerabilityID === null || v.PkgName === null) return null;
  const fixedVersions = splitVersions(v.FixedVersion);
  const cvss = pickCvss(cvssCandidates(v));
  return buildFinding({
    vulnerabilityId: v.VulnerabilityID,
    aliases: v.VendorIDs,
    packageName: v.PkgName,
    packageType: result.Type,
    purl: v.PkgIdentifier?.PURL ?? null,
    // Outside images Trivy leaves PkgPath empty and names the lock file or binary in Target;
    // without it, one module in two binaries would count as a single finding.
    packagePath: v.PkgPath ?? (result.Class === "lang-pkgs" ? result.Target : null),
    installedVersion: v.InstalledVersion,
    fixedVersions,
    fixState: fixStateFromTrivyStatus(v.Status, fixedVersions),
    severity: normalizeSeverity(v.Severity),
    cvssScore: cvss.score,
    cvssVector: cvss.vector,
    epss: null,
    knownExploited: false,
    layerDigest: v.Layer?.Digest ?? null,
    layerDiffId: v.Layer?.DiffID ?? null,
    title: v.Title,
    primaryUrl: v.PrimaryURL,
  });
}

// The source Trivy took the severity from first, then the usual feeds, then whatever else is there.
function cvssCandidates(v: TrivyVulnerability): CvssCandidate[] {
  const order = [v.SeveritySource, "nvd", "ghsa", "redhat", ...v.CVSS.keys()];
  const candidates: CvssCandidate[] = [];
  const seen = new Set<string>();
  for (const source of order) {
    if (source === null || seen.has(source)) continue;
    seen.add(source);
    const entry = v.CVSS.get(source);
    if (entry === undefined) continue;
    candidates.push(
      { version: "3", score: entry.V3Score, vector: entry.V3Vector },
      { version: "4", score: entry.V40Score, vector: entry.V40Vector },
      { version: "2", score: entry.V2Score, vector: entry.V2Vector },
    );
  }
  return candidates;
}

// Archive paths ("images/app.tar.gz") are valid reference syntax, but name no repository.
const archivePath = /\.(?:tar|tgz|tar\.gz|tar\.zst|zip)$/i;

function trivyImage(parsed: z.output<typeof reportSchema>): ImageIdentity {
  const tags = parsed.Metadata?.RepoTags ?? [];
  const repoDigests = parsed.Metadata?.RepoDigests ?? [];
  const artifactName =
    parsed.ArtifactType === "container_image" &&
    parsed.ArtifactName !== null &&
    !archivePath.test(parsed.ArtifactName)
      ? parsed.ArtifactName
      : null;
  const candidates = [
    ...tags.slice(0, 1),
    ...(artifactName === null ? [] : [artifactName]),
    ...repoDigests.slice(0, 1),
  ];
  const ref = candidates.map(parseImageRef).find((r) => r !== null) ?? null;
  const digests = repoDigests
    .map(parseImageRef)
    .filter((r): r is ImageRef => r !== null && r.digest !== null);
  const sameRepository = digests.find((d) => d.repository === ref?.repository);
  return {
    repository: ref?.repository ?? null,
    tag: ref?.tag ?? null,
    digest: ref?.digest ?? sameRepository?.digest ?? digests[0]?.digest ?? null,
  };
}

function shapeProblem(doc: unknown, format: TrivyFormat): string | null {
  if (format === "trivy-legacy") return Array.isArray(doc) ? resultsProblem(doc, "") : notAnObject;
  if (!isRecord(doc)) return notAnObject;
  if (format === "trivy")
    return listProblem("Results", doc.Results) ?? resultsProblem(doc.Results, "Results");
  const key = "Resources" in doc ? "Resources" : "Vulnerabilities";
  const resources = doc[key];
  const problem = listProblem(key, resources);
  if (problem !== null || !Array.isArray(resources)) return problem;
  for (const [i, resource] of resources.entries()) {
    if (!isRecord(resource)) continue;
    const path = `${key}[${i}].Results`;
    const found = listProblem(path, resource.Results) ?? resultsProblem(resource.Results, path);
    if (found !== null) return found;
  }
  return null;
}

function resultsProblem(results: unknown, path: string): string | null {
  if (!Array.isArray(results)) return null;
  for (const [i, result] of results.entries()) {
    if (!isRecord(result)) continue;
    const found = listProblem(`${path}[${i}].Vulnerabilities`, result.Vulnerabilities);
    if (found !== null) return found;
  }
  return null;
}
