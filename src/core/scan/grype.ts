import { z } from "zod";
import { buildFinding } from "./build-finding.js";
import { dedupeFindings } from "./dedupe-findings.js";
import {
  entryList,
  isRecord,
  lenientList,
  optional,
  optionalNumber,
  optionalText,
  textList,
} from "./lenient.js";
import { listProblem, notAnObject } from "./list-problem.js";
import { fixStateFromGrypeState } from "./normalize-fix-state.js";
import { type ImageRef, parseImageRef } from "./normalize-image-ref.js";
import { normalizeSeverity } from "./normalize-severity.js";
import type { ImageIdentity, NormalizedFinding, ParseResult } from "./normalized-report.js";
import { type CvssCandidate, pickCvss } from "./pick-cvss.js";

const cvssSchema = z.object({
  version: optionalText,
  vector: optionalText,
  metrics: optional(z.object({ baseScore: optionalNumber })),
});
// Grype 0.7 wrote one object per CVSS version instead of the `cvss` list.
const legacyCvssSchema = optional(z.object({ baseScore: optionalNumber, vector: optionalText }));

const vulnerabilitySchema = z.object({
  id: optionalText,
  severity: optionalText,
  dataSource: optionalText,
  urls: textList,
  links: textList,
  cvss: lenientList(cvssSchema),
  cvssV3: legacyCvssSchema,
  cvssV2: legacyCvssSchema,
  fix: optional(z.object({ versions: textList, state: optionalText })),
  fixedInVersion: optionalText,
  epss: lenientList(z.object({ epss: optionalNumber })),
  knownExploited: lenientList(z.object({})),
});

const relatedSchema = z.object({ id: optionalText, severity: optionalText, cvss: lenientList(cvssSchema) });

const locationSchema = z.object({
  path: optionalText,
  layerID: optionalText,
  annotations: optional(z.object({ evidence: optionalText })),
});

const matchSchema = z.object({
  vulnerability: optional(vulnerabilitySchema),
  relatedVulnerabilities: lenientList(relatedSchema),
  artifact: optional(
    z.object({
      name: optionalText,
      version: optionalText,
      type: optionalText,
      purl: optionalText,
      locations: lenientList(locationSchema),
    }),
  ),
});

const imageTargetSchema = z.object({
  userInput: optionalText,
  tags: textList,
  repoDigests: textList,
  manifestDigest: optionalText,
  layers: lenientList(z.object({ digest: optionalText })),
});

const reportSchema = z.object({
  matches: entryList(matchSchema),
  // A string for directory and file sources: those have no image.
  source: optional(z.object({ target: optional(imageTargetSchema) })),
  distro: optional(z.object({ name: optionalText, version: optionalText })),
  descriptor: optional(z.object({ name: optionalText, version: optionalText, timestamp: optionalText })),
});

type Match = z.output<typeof matchSchema>;
type ImageTarget = z.output<typeof imageTargetSchema>;

/** Grype JSON (`grype IMAGE -o json`), from 0.7 (`fixedInVersion`, `cvssV3`) to 0.9x (`fix`, `cvss[]`, `epss`, `knownExploited`). */
export function parseGrypeReport(doc: unknown): ParseResult {
  const problem = isRecord(doc) ? listProblem("matches", doc.matches) : notAnObject;
  if (problem !== null) return { ok: false, code: "invalid_report", message: problem };

  const parsed = reportSchema.parse(doc);
  const target = parsed.source?.target ?? null;
  const layerOrder = new Map<string, number>();
  for (const [i, layer] of (target?.layers ?? []).entries()) {
    if (layer.digest !== null && !layerOrder.has(layer.digest)) layerOrder.set(layer.digest, i);
  }

  const findings: NormalizedFinding[] = [];
  let skippedEntries = 0;
  for (const match of parsed.matches) {
    const finding = match === null ? null : toFinding(match, layerOrder);
    if (finding === null) skippedEntries++;
    else findings.push(finding);
  }
  const distro = parsed.distro;
  return {
    ok: true,
    report: {
      format: "grype",
      scanner: { name: parsed.descriptor?.name ?? "grype", version: parsed.descriptor?.version ?? null },
      image: grypeImage(target),
      createdAt: parsed.descriptor?.timestamp ?? null,
      os: distro?.name ? { family: distro.name, name: distro.version ?? "" } : null,
      // Grype's layer digests are diff ids (see toFinding).
      layers: (target?.layers ?? []).flatMap((l) => (l.digest === null ? [] : [l.digest])),
      findings: dedupeFindings(findings),
      skippedEntries,
    },
  };
}

function toFinding(match: Match, layerOrder: ReadonlyMap<string, number>): NormalizedFinding | null {
  const v = match.vulnerability;
  const artifact = match.artifact;
  if (v === null || v.id === null || artifact === null || artifact.name === null) return null;
  const fixedVersions = v.fix?.versions ?? (v.fixedInVersion === null ? [] : [v.fixedInVersion]);
  const related = match.relatedVulnerabilities;
  const cvss = pickCvss([
    ...v.cvss.map(toCandidate),
    ...legacyCandidates(v.cvssV3, "3"),
    ...legacyCandidates(v.cvssV2, "2"),
    ...related.flatMap((r) => r.cvss.map(toCandidate)),
  ]);
  const epssScores = v.epss.map((e) => e.epss).filter((e): e is number => e !== null && e >= 0 && e <= 1);
  const primary =
    artifact.locations.find((l) => l.annotations?.evidence === "primary") ?? artifact.locations[0];
  // Some matches carry no severity of their own; the related record (usually NVD's) has one.
  const severity =
    normalizeSeverity(v.severity) !== "unknown"
      ? v.severity
      : (related.find((r) => r.severity)?.severity ?? null);
  return buildFinding({
    vulnerabilityId: v.id,
    aliases: related.map((r) => r.id).filter((id) => id !== null),
    packageName: artifact.name,
    packageType: artifact.type,
    purl: artifact.purl,
    packagePath: primary?.path ?? null,
    installedVersion: artifact.version,
    fixedVersions,
    fixState: fixStateFromGrypeState(v.fix?.state ?? null, fixedVersions),
    severity: normalizeSeverity(severity),
    cvssScore: cvss.score,
    cvssVector: cvss.vector,
    epss: epssScores.reduce<number | null>((max, e) => (max === null || e > max ? e : max), null),
    knownExploited: v.knownExploited.length > 0,
    // Grype's layer ids are diff ids (they equal the image config's rootfs.diff_ids), not blob digests.
    layerDigest: null,
    layerDiffId: introducingLayer(artifact.locations, layerOrder),
    title: null,
    primaryUrl: v.dataSource ?? v.urls[0] ?? v.links[0] ?? null,
  });
}

function toCandidate(c: z.output<typeof cvssSchema>): CvssCandidate {
  return { version: c.version, score: c.metrics?.baseScore ?? null, vector: c.vector };
}

function legacyCandidates(c: z.output<typeof legacyCvssSchema>, version: string): CvssCandidate[] {
  return c === null ? [] : [{ version, score: c.baseScore, vector: c.vector }];
}

/**
 * The lowest layer among a package's locations. In a squashed image the package database is seen
 * in the last layer that rewrote it (any later `apt-get install`), while the package's own files
 * stay in the layer that installed it.
 */
function introducingLayer(
  locations: readonly z.output<typeof locationSchema>[],
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

function grypeImage(target: ImageTarget | null): ImageIdentity {
  if (target === null) return { repository: null, tag: null, digest: null };
  const candidates = [target.userInput, target.tags[0] ?? null, target.repoDigests[0] ?? null];
  const ref = candidates.map((c) => (c === null ? null : parseImageRef(c))).find((r) => r !== null) ?? null;
  const digests = target.repoDigests
    .map(parseImageRef)
    .filter((r): r is ImageRef => r !== null && r.digest !== null);
  const sameRepository = digests.find((d) => d.repository === ref?.repository);
  return {
    repository: ref?.repository ?? null,
    tag: ref?.tag ?? null,
    // The registry digest users pull by; `manifestDigest` can be the local (daemon) manifest's.
    digest: ref?.digest ?? sameRepository?.digest ?? digests[0]?.digest ?? target.manifestDigest,
  };
}
