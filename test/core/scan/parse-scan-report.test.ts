import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { NormalizedReport } from "../../../src/core/scan/normalized-report.js";
import { parseScanReport } from "../../../src/core/scan/parse-scan-report.js";

const ours = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, "../../fixtures/scan", name), "utf8"));

function report(doc: unknown): NormalizedReport {
  const result = parseScanReport(doc);
  if (!result.ok) throw new Error(result.message);
  return result.report;
}

describe("parseScanReport: Trivy", () => {
  it("reads the legacy list: lower-case severity, null lists, duplicates once, entries without an id counted", () => {
    const r = report(ours("trivy-legacy-list-with-nulls.json"));
    expect(r.format).toBe("trivy-legacy");
    expect(r.scanner).toEqual({ name: "trivy", version: null });
    expect(r.findings.map((f) => [f.vulnerabilityId, f.severity, f.fixState])).toEqual([
      ["CVE-2018-16840", "high", "fixed"],
      ["CVE-2019-14697", "critical", "not_fixed"],
    ]);
    expect(r.skippedEntries).toBe(1);
  });

  it("counts a Go module once per binary that embeds it, and a repeated listing once", () => {
    const r = report(ours("trivy-gobinary-two-binaries.json"));
    expect(r.findings.map((f) => f.packagePath)).toEqual(["usr/local/bin/kubectl", "usr/local/bin/helm"]);
    expect(new Set(r.findings.map((f) => f.fingerprint)).size).toBe(2);
    expect(r.image).toEqual({
      repository: "ghcr.io/acme/tools",
      tag: null,
      digest: "sha256:efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef",
    });
    expect(r.scanner).toEqual({ name: "trivy", version: "0.58.1" });
    expect(r.createdAt).toBe("2025-03-01T12:00:00Z");
  });

  it("reads a k8s report's workloads", () => {
    const r = report(ours("trivy-k8s-resources.json"));
    expect(r.format).toBe("trivy-k8s");
    expect(r.findings.map((f) => [f.vulnerabilityId, f.fixState, f.layerDiffId])).toEqual([
      ["CVE-2024-2961", "fixed", "sha256:4444444444444444444444444444444444444444444444444444444444444444"],
      ["CVE-2024-33599", "not_fixed", null],
    ]);
  });

  it.each([
    [{ SchemaVersion: 2, Results: "x" }, '"Results"'],
    [
      { SchemaVersion: 2, Results: [{ Class: "os-pkgs", Vulnerabilities: 3 }] },
      '"Results[0].Vulnerabilities"',
    ],
    [[{ Target: "a" }, { Target: "b", Vulnerabilities: {} }], '"[1].Vulnerabilities"'],
    [{ ClusterName: "c", Resources: [{ Results: "x" }] }, '"Resources[0].Results"'],
  ])("refuses a damaged report %j, naming %s", (doc, path) => {
    const result = parseScanReport(doc);
    expect(result).toMatchObject({ ok: false, code: "invalid_report" });
    if (!result.ok) expect(result.message).toContain(path);
  });
});

describe("parseScanReport: Grype", () => {
  const r = report(ours("grype-negligible-duplicates-two-paths.json"));
  const byPath = (path: string | null) => r.findings.find((f) => f.packagePath === path);

  it("keeps Negligible, drops the repeated match, keeps one jar per path", () => {
    expect(r.findings.map((f) => [f.vulnerabilityId, f.packagePath])).toEqual([
      ["CVE-2019-9192", "/var/lib/dpkg/status"],
      ["GHSA-jfh8-c2jp-5v3q", "/opt/app/lib/log4j-core-2.14.1.jar"],
      ["GHSA-jfh8-c2jp-5v3q", "/opt/tools/lib/log4j-core-2.14.1.jar"],
      ["CVE-2024-26308", null],
    ]);
    expect(r.skippedEntries).toBe(2);
    // The match's own severity wins over the related record's.
    expect(r.findings[0]).toMatchObject({ severity: "negligible", fixState: "not_fixed" });
  });

  it("reads CVSS v3 before v2, EPSS, known exploitation and aliases without the primary id", () => {
    expect(byPath("/opt/app/lib/log4j-core-2.14.1.jar")).toMatchObject({
      aliases: ["CVE-2021-44228"],
      cvssScore: 10,
      epss: 0.97,
      knownExploited: true,
      fixedVersions: ["2.15.0"],
      fixState: "fixed",
      layerDiffId: "sha256:2222222222222222222222222222222222222222222222222222222222222222",
      layerDigest: null,
    });
  });

  it("attributes a package to the lowest layer among its files, not the one that last rewrote the database", () => {
    expect(r.findings[0]?.layerDiffId).toBe(
      "sha256:1111111111111111111111111111111111111111111111111111111111111111",
    );
  });

  it("fills a missing severity and CVSS from the related record", () => {
    expect(r.findings[3]).toMatchObject({ severity: "high", cvssScore: 7.5 });
  });

  it("names the image with its registry port, and the digest from repoDigests", () => {
    expect(r.image).toEqual({
      repository: "registry.example.com:5000/shop/api",
      tag: "2.3",
      digest: "sha256:abababababababababababababababababababababababababababababababab",
    });
    expect(r.os).toEqual({ family: "debian", name: "10" });
    expect(r.scanner).toEqual({ name: "grype", version: "0.92.2" });
  });

  it("refuses matches that are not a list, naming them", () => {
    expect(parseScanReport({ matches: "x" })).toEqual({
      ok: false,
      code: "invalid_report",
      message: 'The report is damaged: "matches" should be a list, but it is a string.',
    });
  });

  it("treats null matches as none", () => {
    expect(report({ matches: null }).findings).toEqual([]);
  });
});

describe("parseScanReport: CycloneDX", () => {
  const base = {
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    metadata: {
      timestamp: "2025-01-01T00:00:00Z",
      tools: { components: [{ name: "scanner-x", version: "2.0" }] },
      component: { type: "container", name: "ghcr.io/acme/api:1.2", "bom-ref": "root" },
    },
    components: [
      {
        "bom-ref": "outer",
        name: "outer",
        version: "1",
        components: [{ "bom-ref": "inner", name: "inner", version: "2.0", purl: "pkg:npm/inner@2.0" }],
      },
      { type: "operating-system", name: "alpine", version: "3.20" },
    ],
  };

  it("finds nested components, reads info as negligible, EPSS and KEV ratings", () => {
    const r = report({
      ...base,
      vulnerabilities: [
        {
          id: "CVE-2025-0001",
          ratings: [
            { severity: "info" },
            { source: { name: "FIRST" }, method: "other", score: 0.42 },
            { source: { name: "CISA KEV Catalog" }, method: "other", score: 1 },
          ],
          affects: [{ ref: "inner", versions: [{ version: "2.1", status: "unaffected" }] }, { ref: "outer" }],
        },
      ],
    });
    expect(r.findings.map((f) => [f.packageName, f.installedVersion, f.fixedVersions, f.fixState])).toEqual([
      ["inner", "2.0", ["2.1"], "fixed"],
      ["outer", "1", [], "unknown"],
    ]);
    expect(r.findings[0]).toMatchObject({
      severity: "negligible",
      epss: 0.42,
      knownExploited: true,
      packageType: "npm",
    });
    expect(r.scanner).toEqual({ name: "scanner-x", version: "2.0" });
    expect(r.image).toEqual({ repository: "ghcr.io/acme/api", tag: "1.2", digest: null });
    expect(r.os).toEqual({ family: "alpine", name: "3.20" });
  });

  it("skips vulnerabilities without an id and affects without a ref, and counts them", () => {
    const r = report({
      ...base,
      vulnerabilities: [{ affects: [{ ref: "inner" }] }, { id: "CVE-1", affects: [{}] }],
    });
    expect(r.findings).toEqual([]);
    expect(r.skippedEntries).toBe(2);
  });

  it("survives components nested deeper than any stack", () => {
    let nested: Record<string, unknown> = { "bom-ref": "deep", name: "deep", version: "1" };
    for (let i = 0; i < 100_000; i++) nested = { name: `level${i}`, components: [nested] };
    const r = report({
      ...base,
      components: [nested],
      vulnerabilities: [{ id: "CVE-2", affects: [{ ref: "deep" }] }],
    });
    expect(r.findings[0]?.packageName).toBe("deep");
  });
});

describe("parseScanReport: Clair", () => {
  const clair = {
    manifest_hash: "sha256:0123",
    packages: { "1": { name: "openssl", version: "1.1.1k" } },
    distributions: { "5": { did: "rhel", version_id: "8" } },
    environments: {
      "1": [{ package_db: "var/lib/rpm", introduced_in: "sha256:layer1", distribution_id: "5" }],
    },
    vulnerabilities: {
      a: {
        name: "RHSA-2022:1065: openssl security update (Important)",
        normalized_severity: "High",
        fixed_in_version: "1:1.1.1k-6.el8_5",
        links:
          "https://access.redhat.com/errata/RHSA-2022:1065 https://access.redhat.com/security/cve/CVE-2022-0778",
      },
      b: {
        name: "RHSA-2022:1065: openssl security update (Important)",
        normalized_severity: "High",
        fixed_in_version: "1:1.1.1k-6.el8_5",
      },
      c: { name: "CVE-2023-0001", normalized_severity: "Unknown", fixed_in_version: "" },
    },
    package_vulnerabilities: { "1": ["a", "b", "c", "missing"] },
  };

  it("reads advisories once, with their CVEs, fixed versions, layer and distribution", () => {
    const r = report(clair);
    expect(r.findings.map((f) => [f.vulnerabilityId, f.severity, f.fixedVersions, f.fixState])).toEqual([
      ["RHSA-2022:1065", "high", ["1:1.1.1k-6.el8_5"], "fixed"],
      ["CVE-2023-0001", "unknown", [], "unknown"],
    ]);
    expect(r.findings[0]).toMatchObject({
      aliases: ["CVE-2022-0778"],
      packageType: "rhel",
      packagePath: "var/lib/rpm",
      layerDigest: "sha256:layer1",
      primaryUrl: "https://access.redhat.com/errata/RHSA-2022:1065",
    });
    expect(r.skippedEntries).toBe(1);
    expect(r.image).toEqual({ repository: null, tag: null, digest: "sha256:0123" });
  });

  it("takes map keys such as __proto__ as plain ids", () => {
    const doc = JSON.parse(
      '{"manifest_hash":"sha256:1","packages":{"__proto__":{"name":"p","version":"1"}},"vulnerabilities":{"__proto__":{"name":"CVE-2020-1"}},"package_vulnerabilities":{"__proto__":["__proto__"]}}',
    );
    expect(report(doc).findings.map((f) => f.packageName)).toEqual(["p"]);
  });

  it("refuses package_vulnerabilities that is not an object, naming it", () => {
    const result = parseScanReport({ ...clair, package_vulnerabilities: [1] });
    expect(result).toMatchObject({ ok: false, code: "invalid_report" });
    if (!result.ok) expect(result.message).toContain('"package_vulnerabilities"');
  });
});
