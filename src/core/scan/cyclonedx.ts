import { z } from "zod";
import { buildFinding } from "./build-finding.js";
import { ratingSchema, readRatings } from "./cyclonedx-ratings.js";
import { dedupeFindings } from "./dedupe-findings.js";
import { entryList, isRecord, lenientList, optional, optionalText } from "./lenient.js";
import { listProblem, notAnObject } from "./list-problem.js";
import { deriveFixState } from "./normalize-fix-state.js";
import { parseImageRef } from "./normalize-image-ref.js";
import type { ImageIdentity, NormalizedFinding, ParseResult } from "./normalized-report.js";
import { parsePurl, purlQualifier } from "./parse-purl.js";
import { splitVersions } from "./split-versions.js";

const propertySchema = z.object({ name: optionalText, value: optionalText });

const componentSchema = z.object({
  "bom-ref": optionalText,
  type: optionalText,
  group: optionalText,
  name: optionalText,
  version: optionalText,
  purl: optionalText,
  properties: lenientList(propertySchema),
});

const vulnerabilitySchema = z.object({
  id: optionalText,
  source: optional(z.object({ name: optionalText, url: optionalText })),
  references: lenientList(z.object({ id: optionalText })),
  ratings: lenientList(ratingSchema),
  advisories: lenientList(z.object({ url: optionalText })),
  recommendation: optionalText,
  affects: entryList(
    z.object({
      ref: optionalText,
      versions: lenientList(z.object({ version: optionalText, status: optionalText })),
    }),
  ),
});

const toolSchema = z.object({ name: optionalText, version: optionalText });

const reportSchema = z.object({
  metadata: optional(
    z.object({
      timestamp: optionalText,
      // CycloneDX 1.4 lists tools; 1.5 and later wrap them as {components, services}.
      tools: z
        .union([
          z.object({ components: lenientList(toolSchema) }).transform((t) => t.components),
          lenientList(toolSchema),
        ])
        .catch([]),
      component: optional(componentSchema),
    }),
  ),
  vulnerabilities: entryList(vulnerabilitySchema),
});

type Component = z.output<typeof componentSchema> & { props: ReadonlyMap<string, string> };
type Vulnerability = z.output<typeof vulnerabilitySchema>;
type Affects = NonNullable<Vulnerability["affects"][number]>;

/** CycloneDX JSON (1.4–1.7) with `vulnerabilities[]`: one finding per (vulnerability, affected component). */
export function parseCycloneDxReport(doc: unknown): ParseResult {
  const problem = isRecord(doc) ? listProblem("vulnerabilities", doc.vulnerabilities) : notAnObject;
  if (problem !== null) return { ok: false, code: "invalid_report", message: problem };

  const parsed = reportSchema.parse(doc);
  const metadataComponent = parsed.metadata?.component ? withProps(parsed.metadata.component) : null;
  const components = collectComponents(isRecord(doc) ? doc.components : undefined);
  const byRef = new Map<string, Component>();
  for (const c of metadataComponent === null ? components : [metadataComponent, ...components]) {
    const ref = c["bom-ref"];
    if (ref !== null && !byRef.has(ref)) byRef.set(ref, c);
  }

  const findings: NormalizedFinding[] = [];
  let skippedEntries = 0;
  for (const vulnerability of parsed.vulnerabilities) {
    // A vulnerability without an id, or affecting nothing, cannot be a finding.
    if (vulnerability === null || vulnerability.id === null || vulnerability.affects.length === 0) {
      skippedEntries++;
      continue;
    }
    for (const affects of vulnerability.affects) {
      const finding =
        affects === null || affects.ref === null ? null : toFinding(vulnerability, affects, byRef);
      if (finding === null) skippedEntries++;
      else findings.push(finding);
    }
  }
  const tool = parsed.metadata?.tools[0];
  const osComponent = components.find((c) => c.type === "operating-system" && c.name !== null);
  return {
    ok: true,
    report: {
      format: "cyclonedx",
      scanner: { name: tool?.name ?? "unknown", version: tool?.version ?? null },
      image: containerImage(metadataComponent),
      createdAt: parsed.metadata?.timestamp ?? null,
      os: osComponent?.name ? { family: osComponent.name, name: osComponent.version ?? "" } : null,
      layers: [],
      findings: dedupeFindings(findings),
      skippedEntries,
    },
  };
}

function toFinding(
  v: Vulnerability,
  affects: Affects,
  byRef: ReadonlyMap<string, Component>,
): NormalizedFinding | null {
  if (v.id === null || affects.ref === null) return null;
  const component = byRef.get(affects.ref);
  const purlText = component?.purl ?? purlInRef(affects.ref);
  const purl = purlText === null ? null : parsePurl(purlText);
  const name = component?.name ?? purl?.name ?? affects.ref;
  const fixedVersions = fixedVersionsOf(v, affects);
  const ratings = readRatings(v.ratings, v.source?.name ?? null);
  const props = component?.props;
  return buildFinding({
    vulnerabilityId: v.id,
    aliases: v.references.map((r) => r.id).filter((id) => id !== null),
    packageName: qualifiedName(name, component?.group ?? null, purl?.type ?? null),
    packageType:
      props?.get("aquasecurity:trivy:PkgType") ?? props?.get("syft:package:type") ?? purl?.type ?? null,
    purl: purlText,
    packagePath: props?.get("aquasecurity:trivy:FilePath") ?? props?.get("syft:location:0:path") ?? null,
    installedVersion:
      component?.version ??
      purl?.version ??
      affects.versions.find((x) => x.status === "affected")?.version ??
      null,
    fixedVersions,
    // Absence of a fix in CycloneDX says nothing: producers rarely write one down.
    fixState: deriveFixState(fixedVersions, "unknown"),
    ...ratings,
    layerDigest: props?.get("aquasecurity:trivy:LayerDigest") ?? null,
    layerDiffId:
      props?.get("aquasecurity:trivy:LayerDiffID") ?? props?.get("syft:location:0:layerID") ?? null,
    title: null,
    primaryUrl: v.advisories.find((a) => a.url !== null)?.url ?? v.source?.url ?? null,
  });
}

/**
 * Versions marked "unaffected", else the versions in the recommendation: Trivy writes "Upgrade
 * jquery to version 3.4.0", Snyk "… to version 2.6.7.5, 2.8.11.1, 2.9.5 or higher."
 */
function fixedVersionsOf(v: Vulnerability, affects: Affects): string[] {
  const unaffected = affects.versions.flatMap((x) =>
    x.status === "unaffected" && x.version !== null ? [x.version] : [],
  );
  if (unaffected.length > 0) return unaffected;
  const recommended =
    v.recommendation === null ? null : /\bto version (.+?)(?: or higher)?\.?$/i.exec(v.recommendation);
  return splitVersions(recommended?.[1] ?? null);
}

/** The name as the ecosystem writes it (and Trivy's JSON reports it): `group:name` in Maven, `@scope/name` in npm. */
function qualifiedName(name: string, group: string | null, purlType: string | null): string {
  if (group === null) return name;
  if (purlType === "maven") return `${group}:${name}`;
  if (purlType === "npm") return `${group}/${name}`;
  return name;
}

/** A BOM-Link (`urn:cdx:serial/version#pkg:…`) or a bare purl used as the ref. */
function purlInRef(ref: string): string | null {
  if (ref.startsWith("pkg:")) return ref;
  const hash = ref.indexOf("#");
  const fragment = hash === -1 ? "" : ref.slice(hash + 1);
  return fragment.startsWith("pkg:") ? fragment : null;
}

function withProps(c: z.output<typeof componentSchema>): Component {
  const props = new Map<string, string>();
  for (const p of c.properties)
    if (p.name !== null && p.value !== null && !props.has(p.name)) props.set(p.name, p.value);
  return { ...c, props };
}

/** Every component, nested ones included, walked with a stack so no nesting depth can overflow it. */
function collectComponents(raw: unknown): Component[] {
  const found: Component[] = [];
  const pending: unknown[][] = Array.isArray(raw) ? [raw] : [];
  for (let list = pending.pop(); list !== undefined; list = pending.pop()) {
    for (const entry of list) {
      const parsed = componentSchema.safeParse(entry);
      if (parsed.success) found.push(withProps(parsed.data));
      if (isRecord(entry) && Array.isArray(entry.components)) pending.push(entry.components);
    }
  }
  return found;
}

function containerImage(component: Component | null): ImageIdentity {
  if (component === null || component.type !== "container")
    return { repository: null, tag: null, digest: null };
  const ociPurl = component.purl?.startsWith("pkg:oci/") ? component.purl : null;
  const repositoryUrl = ociPurl === null ? null : purlQualifier(ociPurl, "repository_url");
  const candidates = [
    component.props.get("aquasecurity:trivy:RepoTag") ?? null,
    component.name,
    repositoryUrl,
  ];
  const ref = candidates.map((c) => (c === null ? null : parseImageRef(c))).find((r) => r !== null) ?? null;
  const repoDigest = component.props.get("aquasecurity:trivy:RepoDigest");
  const ociVersion = ociPurl === null ? null : (parsePurl(ociPurl)?.version ?? null);
  const versionDigest =
    component.version !== null && /^sha256:[a-f0-9]{64}$/.test(component.version) ? component.version : null;
  return {
    repository: ref?.repository ?? null,
    tag: ref?.tag ?? null,
    digest:
      ref?.digest ??
      (repoDigest ? (parseImageRef(repoDigest)?.digest ?? null) : null) ??
      ociVersion ??
      versionDigest,
  };
}
