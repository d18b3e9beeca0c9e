import { buildFinding } from "./build-finding.js";
import { dedupeFindings } from "./dedupe-findings.js";
import { listEntries } from "./json-list.js";
import { isRecord, readNumber, readRecord, readRecords, readText, readTexts } from "./lenient.js";
import { listProblem, notAnObject } from "./list-problem.js";
import { fixStateFromTrivyStatus } from "./normalize-fix-state.js";
import { type ImageRef, parseImageRef } from "./normalize-image-ref.js";
import { normalizeSeverity } from "./normalize-severity.js";
import type { ImageIdentity, NormalizedFinding, NormalizedReport, ParseResult } from "./normalized-report.js";
import { type CvssCandidate, pickCvss } from "./pick-cvss.js";
import { splitVersions } from "./split-versions.js";

type Json = Record<string, unknown>;
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

  if (format === "trivy-legacy") return withFindings(format, readRecords(doc), bareHeader);
  const report = readRecord(doc) ?? {};
  if (format === "trivy-k8s") {
    // Older k8s reports list workloads under "Vulnerabilities", newer ones under "Resources".
    const resources = readRecords(report.Resources);
    const workloads = resources.length > 0 ? resources : readRecords(report.Vulnerabilities);
    return withFindings(
      format,
      workloads.flatMap((r) => readRecords(r.Results)),
      bareHeader,
    );
  }
  const metadata = readRecord(report.Metadata);
  const os = readRecord(metadata?.OS);
  const family = readText(os?.Family);
  const diffIds = readTexts(metadata?.DiffIDs);
  return withFindings(format, readRecords(report.Results), {
    scanner: { name: "trivy", version: readText(readRecord(report.Trivy)?.Version) },
    image: trivyImage(report, metadata),
    createdAt: readText(report.CreatedAt),
    os: family ? { family, name: readText(os?.Name) ?? "" } : null,
    layers:
      diffIds.length > 0
        ? diffIds
        : readTexts(readRecord(readRecord(metadata?.ImageConfig)?.rootfs)?.diff_ids),
  });
}

function withFindings(format: TrivyFormat, results: readonly Json[], header: Header): ParseResult {
  const findings: NormalizedFinding[] = [];
  let skippedEntries = 0;
  for (const result of results) {
    const target = {
      type: readText(result.Type),
      class: readText(result.Class),
      target: readText(result.Target),
    };
    for (const vulnerability of listEntries(result.Vulnerabilities)) {
      const finding = isRecord(vulnerability) ? toFinding(target, vulnerability) : null;
      if (finding === null) skippedEntries++;
      else findings.push(finding);
    }
  }
  return { ok: true, report: { format, ...header, findings: dedupeFindings(findings), skippedEntries } };
}

type Target = { type: string | null; class: string | null; target: string | null };

function toFinding(result: Target, v: Json): NormalizedFinding | null {
  const vulnerabilityId = readText(v.VulnerabilityID);
  const packageName = readText(v.PkgName);
  if (vulnerabilityId === null || packageName === null) return null;
  const fixedVersions = splitVersions(readText(v.FixedVersion));
  const cvss = pickCvss(cvssCandidates(readText(v.SeveritySource), readRecord(v.CVSS)));
  const layer = readRecord(v.Layer);
  return buildFinding({
    vulnerabilityId,
    aliases: readTexts(v.VendorIDs),
    packageName,
    packageType: result.type,
    purl: readText(readRecord(v.PkgIdentifier)?.PURL),
    // Outside images Trivy leaves PkgPath empty and names the lock file or binary in Target;
    // without it, one module in two binaries would count as a single finding.
    packagePath: readText(v.PkgPath) ?? (result.class === "lang-pkgs" ? result.target : null),
    installedVersion: readText(v.InstalledVersion),
    fixedVersions,
    fixState: fixStateFromTrivyStatus(readText(v.Status), fixedVersions),
    severity: normalizeSeverity(readText(v.Severity)),
    cvssScore: cvss.score,
    cvssVector: cvss.vector,
    epss: null,
    knownExploited: false,
    layerDigest: readText(layer?.Digest),
    layerDiffId: readText(layer?.DiffID),
    title: readText(v.Title),
    primaryUrl: readText(v.PrimaryURL),
  });
}

// The source Trivy took the severity from first, then the usual feeds, then whatever else is there.
// CVSS is a JSON object used as a map: sources are looked up as own keys, never on a prototype.
function cvssCandidates(severitySource: string | null, bySource: Json | null): CvssCandidate[] {
  if (bySource === null) return [];
  const order = [severitySource, "nvd", "ghsa", "redhat", ...Object.keys(bySource)];
  const candidates: CvssCandidate[] = [];
  const seen = new Set<string>();
  for (const source of order) {
    if (source === null || seen.has(source)) continue;
    seen.add(source);
    const entry = Object.hasOwn(bySource, source) ? readRecord(bySource[source]) : null;
    if (entry === null) continue;
    candidates.push(
      { version: "3", score: readNumber(entry.V3Score), vector: readText(entry.V3Vector) },
      { version: "4", score: readNumber(entry.V40Score), vector: readText(entry.V40Vector) },
      { version: "2", score: readNumber(entry.V2Score), vector: readText(entry.V2Vector) },
    );
  }
  return candidates;
}

// Archive paths ("images/app.tar.gz") are valid reference syntax, but name no repository.
const archivePath = /\.(?:tar|tgz|tar\.gz|tar\.zst|zip)$/i;

function trivyImage(report: Json, metadata: Json | null): ImageIdentity {
  const tags = readTexts(metadata?.RepoTags);
  const repoDigests = readTexts(metadata?.RepoDigests);
  const name = readText(report.ArtifactName);
  const artifactName =
    readText(report.ArtifactType) === "container_image" && name !== null && !archivePath.test(name)
      ? name
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
