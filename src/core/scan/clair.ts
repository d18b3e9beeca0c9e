import { z } from "zod";
import { buildFinding } from "./build-finding.js";
import { dedupeFindings } from "./dedupe-findings.js";
import { isRecord, lenientList, lenientMap, optionalNumber, optionalText, textList } from "./lenient.js";
import { mapProblem, notAnObject } from "./list-problem.js";
import { deriveFixState } from "./normalize-fix-state.js";
import { normalizeSeverity } from "./normalize-severity.js";
import type { NormalizedFinding, ParseResult } from "./normalized-report.js";
import { pickCvss } from "./pick-cvss.js";

const packageSchema = z.object({ name: optionalText, version: optionalText });

const vulnerabilitySchema = z.object({
  name: optionalText,
  description: optionalText,
  links: optionalText,
  severity: optionalText,
  normalized_severity: optionalText,
  fixed_in_version: optionalText,
});

const environmentSchema = z.object({
  package_db: optionalText,
  introduced_in: optionalText,
  distribution_id: optionalText,
  repository_ids: textList,
});

const reportSchema = z.object({
  manifest_hash: optionalText,
  packages: lenientMap(packageSchema),
  vulnerabilities: lenientMap(vulnerabilitySchema),
  package_vulnerabilities: lenientMap(textList),
  environments: lenientMap(lenientList(environmentSchema)),
  distributions: lenientMap(z.object({ did: optionalText, version_id: optionalText })),
  repository: lenientMap(z.object({ name: optionalText })),
  enrichments: lenientMap(z.array(z.unknown()).catch([])),
});

const cvssSchema = z.object({
  version: optionalText,
  baseScore: optionalNumber,
  vectorString: optionalText,
  baseSeverity: optionalText,
});
const cvssEnrichmentSchema = lenientMap(lenientList(cvssSchema));

type Report = z.output<typeof reportSchema>;
type Cvss = z.output<typeof cvssSchema>;

/** Clair v4 `VulnerabilityReport` (`GET /matcher/api/v1/vulnerability_report/{manifest_hash}`). */
export function parseClairReport(doc: unknown): ParseResult {
  if (!isRecord(doc)) return { ok: false, code: "invalid_report", message: notAnObject };
  for (const key of ["packages", "vulnerabilities", "package_vulnerabilities"]) {
    const problem = mapProblem(key, doc[key]);
    if (problem !== null) return { ok: false, code: "invalid_report", message: problem };
  }
  const parsed = reportSchema.parse(doc);
  const cvssByVulnerability = enrichedCvss(parsed);

  const findings: NormalizedFinding[] = [];
  let skippedEntries = 0;
  for (const [packageId, vulnerabilityIds] of parsed.package_vulnerabilities) {
    const pkg = parsed.packages.get(packageId);
    const environment = parsed.environments.get(packageId)?.[0];
    for (const id of vulnerabilityIds) {
      const v = parsed.vulnerabilities.get(id);
      if (pkg === undefined || pkg.name === null || v === undefined || v.name === null) {
        skippedEntries++;
        continue;
      }
      const vulnerabilityId = advisoryId(v.name);
      const enriched = cvssByVulnerability.get(id);
      const cvss = pickCvss(
        enriched === undefined
          ? []
          : [{ version: enriched.version, score: enriched.baseScore, vector: enriched.vectorString }],
      );
      // "0:0" is how some Debian feeds say "no fixed version", not a version to upgrade to.
      const fixedVersions =
        v.fixed_in_version === null || /^(?:0:)?0$/.test(v.fixed_in_version) ? [] : [v.fixed_in_version];
      const severity = normalizeSeverity(v.normalized_severity ?? v.severity);
      findings.push(
        buildFinding({
          vulnerabilityId,
          aliases: cveIds(`${v.name} ${v.links ?? ""}`),
          packageName: pkg.name,
          packageType: packageType(parsed, environment),
          purl: null,
          packagePath: environment?.package_db ?? null,
          installedVersion: pkg.version,
          fixedVersions,
          // Clair leaves the fixed version empty both for unpatched advisories and for feeds that do not record fixes.
          fixState: deriveFixState(fixedVersions, "unknown"),
          // Some updaters (Debian, PyUp) rate nothing; the NVD CVSS enrichment is then the only severity there is.
          severity: severity === "unknown" ? normalizeSeverity(enriched?.baseSeverity) : severity,
          cvssScore: cvss.score,
          cvssVector: cvss.vector,
          epss: null,
          knownExploited: false,
          // Clair indexes layers by their manifest (blob) digest.
          layerDigest: environment?.introduced_in ?? null,
          layerDiffId: null,
          title: clairTitle(v.name, v.description),
          primaryUrl: v.links?.split(/\s+/)[0] ?? null,
        }),
      );
    }
  }
  const distribution = [...parsed.distributions.values()].find((d) => d.did !== null);
  return {
    ok: true,
    report: {
      format: "clair",
      scanner: { name: "clair", version: null },
      image: { repository: null, tag: null, digest: parsed.manifest_hash },
      createdAt: null,
      os: distribution?.did ? { family: distribution.did, name: distribution.version_id ?? "" } : null,
      layers: [],
      findings: dedupeFindings(findings),
      skippedEntries,
    },
  };
}

/**
 * The advisory id at the start of Clair's name: "CVE-2018-6829 libgcrypt20", "RHSA-2022:0892:
 * libarchive security update (Moderate)", "pyup.io-38745 (CVE-2020-25032)".
 */
function advisoryId(name: string): string {
  const first = name.split(/\s+/)[0] ?? name;
  return first.replace(/:$/, "") || name;
}

/**
 * Red Hat names carry a title ("RHSA-2022:0892: libarchive security update (Moderate)"); Ubuntu
 * puts a one-line summary in the description; others (Debian) have only a paragraph, no title.
 */
function clairTitle(name: string, description: string | null): string | null {
  const titled = /^\S+:\s+(.+)$/.exec(name);
  if (titled?.[1]) return titled[1];
  return description !== null && description.length <= 200 && !description.includes("\n")
    ? description
    : null;
}

function cveIds(text: string): string[] {
  return [...new Set(text.match(/CVE-\d{4}-\d{4,}/g) ?? [])];
}

/** The distribution the package came from (debian, rhel, …), else its repository (pypi). */
function packageType(
  parsed: Report,
  environment: z.output<typeof environmentSchema> | undefined,
): string | null {
  if (environment === undefined) return null;
  if (environment.distribution_id !== null) {
    const did = parsed.distributions.get(environment.distribution_id)?.did;
    if (did) return did;
  }
  const repositoryId = environment.repository_ids[0];
  return repositoryId === undefined ? null : (parsed.repository.get(repositoryId)?.name ?? null);
}

/**
 * CVSS from the `clair.cvss` enrichment: `[ { <vulnerability id>: [ {baseScore, vectorString, …} ] } ]`
 * under a media-type key that names the enricher.
 */
function enrichedCvss(parsed: Report): Map<string, Cvss> {
  const byVulnerability = new Map<string, Cvss>();
  for (const [key, entries] of parsed.enrichments) {
    if (!key.includes("clair.cvss")) continue;
    for (const entry of entries) {
      for (const [vulnerabilityId, records] of cvssEnrichmentSchema.parse(entry)) {
        const first = records.find((r) => r.baseScore !== null || r.vectorString !== null);
        if (first !== undefined && !byVulnerability.has(vulnerabilityId))
          byVulnerability.set(vulnerabilityId, first);
      }
    }
  }
  return byVulnerability;
}
