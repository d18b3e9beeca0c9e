import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Finding counts of the recorded reports in ../shared/fixtures, computed from the raw JSON and
 * not through the parser under test. Provenance of each file: ../shared/fixtures/SOURCES.md.
 */
export const fixtures = join(import.meta.dirname, "../../../shared/fixtures");
export const folders = ["trivy", "grype", "cyclonedx", "clair"] as const;

type Json = Record<string, unknown>;
export const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
export const obj = (v: unknown): Json => (isJson(v) ? v : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | null =>
  typeof v === "string" && v.trim() !== "" ? v.trim() : null;

export function filesIn(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesIn(path) : name.endsWith(".json") ? [path] : [];
    });
}

export const load = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));
export const relative = (path: string) => path.slice(fixtures.length + 1);

/** Distinct keys, i.e. the number of findings once a report's repeats are removed. */
function countDistinct(keys: Iterable<unknown[]>): number {
  return new Set([...keys].map((k) => JSON.stringify(k))).size;
}

// Trivy: one finding per (id, package, version, path, type); outside images the lock file or
// binary named in Target stands for the path (see trivy.ts).
function expectedTrivy(doc: unknown): number {
  const results = Array.isArray(doc)
    ? doc
    : "ClusterName" in obj(doc)
      ? arr(obj(doc).Resources ?? obj(doc).Vulnerabilities).flatMap((r) => arr(obj(r).Results))
      : arr(obj(doc).Results);
  return countDistinct(
    results.flatMap((result) => {
      const r = obj(result);
      return arr(r.Vulnerabilities)
        .map(obj)
        .filter((v) => str(v.VulnerabilityID) && str(v.PkgName))
        .map((v) => [
          str(v.VulnerabilityID),
          str(v.PkgName),
          str(v.InstalledVersion),
          str(v.PkgPath) ?? (r.Class === "lang-pkgs" ? str(r.Target) : null),
          str(r.Type),
        ]);
    }),
  );
}

function expectedGrype(doc: unknown): number {
  return countDistinct(
    arr(obj(doc).matches).map((m) => {
      const v = obj(obj(m).vulnerability);
      const a = obj(obj(m).artifact);
      const locations = arr(a.locations).map(obj);
      const primary = locations.find((l) => obj(l.annotations).evidence === "primary") ?? locations[0];
      return [v.id, a.name, str(a.version), str(primary?.path), str(a.type)];
    }),
  );
}

// CycloneDX: one finding per (vulnerability, affected ref).
function expectedCycloneDx(doc: unknown): number {
  return countDistinct(
    arr(obj(doc).vulnerabilities).flatMap((v) => arr(obj(v).affects).map((a) => [obj(v).id, obj(a).ref])),
  );
}

// Clair: one finding per (package, vulnerability). Clair repeats an advisory once per repository
// that carries it (RHSA-2022:0892 for libarchive from both BaseOS and AppStream), as records
// with different ids and the same name: the name is what identifies the advisory.
function expectedClair(doc: unknown): number {
  const vulnerabilities = obj(obj(doc).vulnerabilities);
  return countDistinct(
    Object.entries(obj(obj(doc).package_vulnerabilities)).flatMap(([pkg, ids]) =>
      arr(ids).map((id) => [pkg, obj(vulnerabilities[String(id)]).name]),
    ),
  );
}

export function expectedCount(path: string, doc: unknown): number {
  if (path.includes("cyclonedx") || obj(doc).bomFormat === "CycloneDX") return expectedCycloneDx(doc);
  if (path.includes(".grype.")) return expectedGrype(doc);
  if (path.includes(".clair.")) return expectedClair(doc);
  return expectedTrivy(doc);
}

export const isRefused = (path: string) => /\.(sarif|spdx)\.json$/.test(path);
