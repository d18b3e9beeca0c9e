import { fingerprintFinding } from "./fingerprint-finding.js";
import type { NormalizedFinding } from "./normalized-report.js";

export type FindingDraft = Omit<NormalizedFinding, "fingerprint">;

/** A finding with its fingerprint, aliases without the primary id, and no repeated versions. */
export function buildFinding(d: FindingDraft): NormalizedFinding {
  // Every field spelled out: one compact object shape for the tens of thousands a report can hold.
  return {
    vulnerabilityId: d.vulnerabilityId,
    aliases: distinct(d.aliases).filter((a) => a !== d.vulnerabilityId),
    packageName: d.packageName,
    packageType: d.packageType,
    purl: d.purl,
    packagePath: d.packagePath,
    installedVersion: d.installedVersion,
    fixedVersions: distinct(d.fixedVersions),
    fixState: d.fixState,
    severity: d.severity,
    cvssScore: d.cvssScore,
    cvssVector: d.cvssVector,
    epss: d.epss,
    knownExploited: d.knownExploited,
    layerDigest: d.layerDigest,
    layerDiffId: d.layerDiffId,
    title: d.title,
    primaryUrl: d.primaryUrl,
    fingerprint: fingerprintFinding(d),
  };
}

// Most of these lists have no entry or one: no Set for those.
const distinct = (xs: string[]): string[] => (xs.length < 2 ? xs : [...new Set(xs)]);
