import { buildFinding } from "./build-finding.js";
import { dedupeFindings } from "./dedupe-findings.js";
import { listEntries } from "./json-list.js";
import { isRecord, readNumber, readRecord, readRecords, readText, readTexts } from "./lenient.js";
import { listProblem, notAnObject } from "./list-problem.js";
import { fixStateFromGrypeState } from "./normalize-fix-state.js";
import { type ImageRef, parseImageRef } from "./normalize-image-ref.js";
import { normalizeSeverity } from "./normalize-severity.js";
import type { ImageIdentity, NormalizedFinding, ParseResult } from "./normalized-report.js";
import { type CvssCandidate, pickCvss } from "./pick-cvss.js";

type Json = Record<string, unknown>;
type Location = { path: string | null; layerID: string | null; evidence: string | null };

/** Grype JSON (`grype IMAGE -o json`), from 0.7 (`fixedInVersion`, `cvssV3`) to 0.9x (`fix`, `cvss[]`, `epss`, `knownExploited`). */
export function parseGrypeReport(doc: unknown): ParseResult {
  if (!isRecord(doc)) return { ok: false, code: "invalid_report", message: notAnObject };
  const problem = listProblem("matches", doc.matches);
  if (problem !== null) return { ok: false, code: "invalid_report", message: problem };

  // A string for directory and file sources: those have no image.
  const target = readRecord(readRecord(doc.source)?.target);
  const layers = readRecords(target?.layers).flatMap((l) => {
    const digest = readText(l.digest);
    return digest === null ? [] : [digest];
  });
  const layerOrder = new Map<string, number>();
  for (const [i, digest] of layers.entries()) if (!layerOrder.has(digest)) layerOrder.set(digest, i);

  const findings: NormalizedFinding[] = [];
  let skippedEntries = 0;
  for (const match of listEntries(doc.matches)) {
    const finding = isRecord(match) ? toFinding(match, layerOrder) : null;
    if (finding === null) skippedEntries++;
    else findings.push(finding);
  }
  const distro = readRecord(doc.distro);
  const distroName = readText(distro?.name);
  const descriptor = readRecord(doc.descriptor);
  return {
    ok: true,
    report: {
      format: "grype",
      scanner: { name: readText(descriptor?.name) ?? "grype", version: readText(descriptor?.version) },
      image: grypeImage(target),
      createdAt: readText(descriptor?.timestamp),
      os: distroName ? { family: distroName, name: readText(distro?.version) ?? "" } : null,
      // Grype's layer digests are diff ids (see toFinding).
      layers,
      findings: dedupeFindings(findings),
      skippedEntries,
    },
  };
}

function toFinding(match: Json, layerOrder: ReadonlyMap<string, number>): NormalizedFinding | null {
  const v = readRecord(match.vulnerability);
  const artifact = readRecord(match.artifact);
  const id = readText(v?.id);
  const name = readText(artifact?.name);
  if (v === null || id === null || artifact === null || name === null) return null;
  const fix = readRecord(v.fix);
  const fixedInVersion = readText(v.fixedInVersion);
  const fixedVersions = fix ? readTexts(fix.versions) : fixedInVersion === null ? [] : [fixedInVersion];
  const related = readRecords(match.relatedVulnerabilities);
  const cvss = pickCvss([
    ...cvssCandidates(v.cvss),
    ...legacyCandidates(v.cvssV3, "3"),
    ...legacyCandidates(v.cvssV2, "2"),
    ...related.flatMap((r) => cvssCandidates(r.cvss)),
  ]);
  let epss: number | null = null;
  for (const e of readRecords(v.epss)) {
    const score = readNumber(e.epss);
    if (score !== null && score >= 0 && score <= 1 && (epss === null || score > epss)) epss = score;
  }
  const locations: Location[] = readRecords(artifact.locations).map((l) => ({
    path: readText(l.path),
    layerID: readText(l.layerID),
    evidence: readText(readRecord(l.annotations)?.evidence),
  }));
  const primary = locations.find((l) => l.evidence === "primary") ?? locations[0];
  // Some matches carry no severity of their own; the related record (usually NVD's) has one.
  const ownSeverity = readText(v.severity);
  const severity =
    normalizeSeverity(ownSeverity) !== "unknown"
      ? ownSeverity
      : (related.map((r) => readText(r.severity)).find((s) => s !== null) ?? null);
  return buildFinding({
    vulnerabilityId: id,
    aliases: related.map((r) => readText(r.id)).filter((a) => a !== null),
    packageName: name,
    packageType: readText(artifact.type),
    purl: readText(artifact.purl),
    packagePath: primary?.path ?? null,
    installedVersion: readText(artifact.version),
    fixedVersions,
    fixState: fixStateFromGrypeState(readText(fix?.state), fixedVersions),
    severity: normalizeSeverity(severity),
    cvssScore: cvss.score,
    cvssVector: cvss.vector,
    epss,
    knownExploited: readRecords(v.knownExploited).length > 0,
    // Grype's layer ids are diff ids (they equal the image config's rootfs.diff_ids), not blob digests.
    layerDigest: null,
    layerDiffId: introducingLayer(locations, layerOrder),
    title: null,
    primaryUrl: readText(v.dataSource) ?? readTexts(v.urls)[0] ?? readTexts(v.links)[0] ?? null,
  });
}

function cvssCandidates(list: unknown): CvssCandidate[] {
  return readRecords(list).map((c) => ({
    version: readText(c.version),
    score: readNumber(readRecord(c.metrics)?.baseScore),
    vector: readText(c.vector),
  }));
}

// Grype 0.7 wrote one object per CVSS version instead of the `cvss` list.
function legacyCandidates(value: unknown, version: string): CvssCandidate[] {
  const c = readRecord(value);
  return c === null ? [] : [{ version, score: readNumber(c.baseScore), vector: readText(c.vector) }];
}

/**
 * The lowest layer among a package's locations. In a squashed image the package database is seen
 * in the last layer that rewrote it (any later `apt-get install`), while the package's own files
 * stay in the layer that installed it.
 */
function introducingLayer(
  locations: readonly Location[],
  layerOrder: ReadonlyMap<string, number>,
): string | null {
  let best: string | null = null;
  let bestIndex = Number.POSITIVE_INFINITY;
  for (const location of locations) {
    if (location.layerID === null) continue;
    const index = layerOrder.get(location.layerID) ?? Number.POSITIVE_INFINITY;
    if (best === null || index < bestIndex) {
      best = location.layerID;
      bestIndex = index;
    }
  }
  return best;
}

function grypeImage(target: Json | null): ImageIdentity {
  if (target === null) return { repository: null, tag: null, digest: null };
  const tags = readTexts(target.tags);
  const repoDigests = readTexts(target.repoDigests);
  const candidates = [readText(target.userInput), tags[0] ?? null, repoDigests[0] ?? null];
  const ref = candidates.map((c) => (c === null ? null : parseImageRef(c))).find((r) => r !== null) ?? null;
  const digests = repoDigests
    .map(parseImageRef)
    .filter((r): r is ImageRef => r !== null && r.digest !== null);
  const sameRepository = digests.find((d) => d.repository === ref?.repository);
  return {
    repository: ref?.repository ?? null,
    tag: ref?.tag ?? null,
    // The registry digest users pull by; `manifestDigest` can be the local (daemon) manifest's.
    digest: ref?.digest ?? sameRepository?.digest ?? digests[0]?.digest ?? readText(target.manifestDigest),
  };
}
