import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseClairReport } from "../../../src/core/scan/clair.js";
import { parseCycloneDxReport } from "../../../src/core/scan/cyclonedx.js";
import { dedupeFindings } from "../../../src/core/scan/dedupe-findings.js";
import { parseGrypeReport } from "../../../src/core/scan/grype.js";
import { parseScanReport } from "../../../src/core/scan/parse-scan-report.js";
import { parseTrivyReport } from "../../../src/core/scan/trivy.js";

const shared = join(import.meta.dirname, "../../../../shared/fixtures");
const ours = join(import.meta.dirname, "../../fixtures/scan");

function jsonFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? jsonFiles(path) : name.endsWith(".json") ? [path] : [];
  });
}

// Small real reports of every format, so that mutations land on fields the parsers read.
const seeds: unknown[] = [
  ...jsonFiles(ours),
  ...["trivy", "grype", "cyclonedx", "clair"].flatMap((f) => jsonFiles(join(shared, f))),
]
  .filter((path) => statSync(path).size < 100_000)
  .map((path) => JSON.parse(readFileSync(path, "utf8")));

if (!existsSync(shared))
  console.warn(`property tests: ${shared} is absent, mutating only test/fixtures/scan`);

function expectAnswer(doc: unknown): void {
  const result = parseScanReport(doc);
  if (result.ok) {
    expect(Array.isArray(result.report.findings)).toBe(true);
    for (const f of result.report.findings) {
      expect(f.vulnerabilityId.length).toBeGreaterThan(0);
      expect(f.packageName.length).toBeGreaterThan(0);
      expect(f.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
  } else {
    expect(["unsupported_format", "invalid_report"]).toContain(result.code);
    expect(result.message.length).toBeGreaterThan(0);
  }
}

const weird = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withObjectString: true,
});

/** A JSON path into `doc` and a replacement value: one field of a real report broken. */
type Mutation = { steps: number[]; value: unknown };

type Container = Record<string, unknown> | unknown[];

// Only what JSON.parse builds: mutating a typed array or a Map would test the harness, not the parser.
function isContainer(value: unknown): value is Container {
  if (Array.isArray(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function mutate(doc: unknown, { steps, value }: Mutation): unknown {
  const copy: unknown = structuredClone(doc);
  if (!isContainer(copy)) return value;
  let parent: Container | null = null;
  let key = "";
  let node: unknown = copy;
  for (const step of steps) {
    if (!isContainer(node)) break;
    const keys = Object.keys(node);
    const next = keys[step % Math.max(keys.length, 1)];
    if (next === undefined) break;
    parent = node;
    key = next;
    node = Reflect.get(node, next);
  }
  if (parent === null) return value;
  Reflect.set(parent, key, value);
  return copy;
}

describe("parseScanReport never throws", () => {
  it("on anything at all", () => {
    fc.assert(fc.property(weird, expectAnswer), { numRuns: 2000 });
  });

  it("on objects that look like each format, with anything in their fields", () => {
    const shapes = fc.oneof(
      fc.record({ SchemaVersion: fc.constant(2), Results: weird, Metadata: weird, ArtifactName: weird }),
      fc.array(fc.record({ Target: fc.string(), Vulnerabilities: weird })),
      fc.record({ ClusterName: fc.string(), Resources: weird, Vulnerabilities: weird }),
      fc.record({ matches: fc.array(weird), source: weird, descriptor: weird, distro: weird }),
      fc.record({
        bomFormat: fc.constant("CycloneDX"),
        vulnerabilities: fc.array(weird),
        components: weird,
        metadata: weird,
      }),
      fc.record({
        manifest_hash: fc.string(),
        packages: weird,
        vulnerabilities: weird,
        package_vulnerabilities: weird,
        enrichments: weird,
      }),
    );
    fc.assert(fc.property(shapes, expectAnswer), { numRuns: 2000 });
  });

  it("when a format's parser is called directly with anything", () => {
    const parsers = [
      (d: unknown) => parseTrivyReport(d, "trivy"),
      (d: unknown) => parseTrivyReport(d, "trivy-legacy"),
      (d: unknown) => parseTrivyReport(d, "trivy-k8s"),
      parseGrypeReport,
      parseCycloneDxReport,
      parseClairReport,
    ];
    fc.assert(
      fc.property(fc.constantFrom(...parsers), weird, (parse, doc) => {
        const result = parse(doc);
        expect(result.ok || result.code === "invalid_report").toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("on real reports with one field replaced by anything", () => {
    const mutation = fc.record({ steps: fc.array(fc.nat(), { maxLength: 8 }), value: weird });
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, mutations) => {
          expectAnswer(mutations.reduce(mutate, seed));
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe("deduplication", () => {
  const parsedSeeds = seeds.map(parseScanReport).flatMap((r) => (r.ok ? [r.report.findings] : []));

  it("is idempotent, and leaves no fingerprint twice", () => {
    fc.assert(
      fc.property(fc.constantFrom(...parsedSeeds), fc.array(fc.nat()), (findings, picks) => {
        // The same findings repeated in some order, as a report that lists matches twice would.
        const repeated = [
          ...findings,
          ...picks.flatMap((p) => (findings.length ? [findings[p % findings.length]!] : [])),
        ];
        const once = dedupeFindings(repeated);
        expect(dedupeFindings(once)).toEqual(once);
        expect(new Set(once.map((f) => f.fingerprint)).size).toBe(once.length);
        expect(once).toEqual(findings);
      }),
    );
  });

  it("parsing the same report twice gives the same findings in the same order", () => {
    for (const seed of seeds) expect(parseScanReport(seed)).toEqual(parseScanReport(structuredClone(seed)));
  });
});
