import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acceptedFormatsHelp } from "../../../src/core/scan/detect-scan-format.js";
import type { NormalizedReport } from "../../../src/core/scan/normalized-report.js";
import { parseScanReport } from "../../../src/core/scan/parse-scan-report.js";
import {
  arr,
  expectedCount,
  filesIn,
  fixtures,
  folders,
  isRefused,
  load,
  obj,
  relative,
} from "../../support/fixture-finding-counts.js";

/**
 * Every recorded report in ../shared/fixtures, checked against a finding count computed from the
 * raw JSON in test/support/fixture-finding-counts.ts, not through the parser.
 */
for (const folder of folders) {
  const dir = join(fixtures, folder);
  if (!existsSync(dir)) console.warn(`conformance: ${dir} is absent, skipping the ${folder} fixtures`);

  describe.skipIf(!existsSync(dir))(`conformance: ${folder} fixtures`, () => {
    const files = existsSync(dir) ? filesIn(dir) : [];

    it.each(files.filter((f) => !isRefused(f)).map((f) => [relative(f), f]))(
      "%s yields exactly the findings its JSON lists",
      (_name, path) => {
        const doc = load(path);
        const result = parseScanReport(doc);
        if (!result.ok) throw new Error(`refused: ${result.message}`);
        expect(result.report.findings).toHaveLength(expectedCount(path, doc));
        const fingerprints = result.report.findings.map((f) => f.fingerprint);
        expect(new Set(fingerprints).size).toBe(fingerprints.length);
      },
    );

    it.each(files.filter(isRefused).map((f) => [relative(f), f]))(
      "%s is refused, saying which formats are read",
      (_name, path) => {
        const result = parseScanReport(load(path));
        expect(result).toMatchObject({ ok: false, code: "unsupported_format" });
        if (result.ok) return;
        expect(result.message).toContain(path.endsWith(".sarif.json") ? "SARIF" : "SPDX");
        expect(result.message).toContain(acceptedFormatsHelp);
        expect(result.message).toContain("trivy image -f json -o report.json IMAGE");
      },
    );
  });
}

const haveFixtures = existsSync(fixtures);

function parsed(path: string): NormalizedReport {
  const result = parseScanReport(load(join(fixtures, path)));
  if (!result.ok) throw new Error(`${path} refused: ${result.message}`);
  return result.report;
}

function finding(report: NormalizedReport, vulnerabilityId: string, packageName?: string) {
  const found = report.findings.find(
    (f) =>
      f.vulnerabilityId === vulnerabilityId && (packageName === undefined || f.packageName === packageName),
  );
  if (found === undefined) throw new Error(`no ${vulnerabilityId} ${packageName ?? ""}`);
  return found;
}

describe.skipIf(!haveFixtures)("conformance: spot checks on named fixtures", () => {
  it("trivy fluentd-gems: a fix backported to two release lines is two fixed versions", () => {
    const report = parsed("trivy/fluentd-gems.trivy.json");
    expect(finding(report, "CVE-2020-8165")).toMatchObject({
      packageName: "activesupport",
      fixedVersions: ["6.0.3.1", "5.2.4.3"],
      fixState: "fixed",
      severity: "high",
      packagePath: "var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec",
    });
    expect(finding(report, "CVE-2019-18224")).toMatchObject({
      severity: "critical",
      aliases: ["DSA-4613-1"],
      layerDigest: "sha256:000eee12ec04cc914bf96e8f5dee7767510c2aca3816af6078bd9fbe3150920c",
      layerDiffId: "sha256:831c5620387fb9efec59fc82a42b948546c6be601e3ab34a87108ecf852aa15f",
    });
    expect(report.image).toEqual({
      repository: "ghcr.io/aquasecurity/trivy-test-images",
      tag: "fluentd-multiple-lockfiles",
      digest: null,
    });
    expect(report.os).toEqual({ family: "debian", name: "10.2" });
  });

  it("trivy all_statuses: every Trivy status maps to a fix state", () => {
    const report = parsed("trivy/defectdojo/all_statuses.trivy.json");
    const states = Object.fromEntries(report.findings.map((f) => [f.vulnerabilityId, f.fixState]));
    expect(states).toEqual({
      "CVE-2011-3374": "unknown",
      "CVE-2019-18276": "unknown",
      "TEMP-0841856-B18BAF": "not_fixed",
      "CVE-2018-1000876": "fixed",
      "CVE-2018-12697": "not_fixed",
      "CVE-2018-12698": "wont_fix",
      "CVE-2018-12699": "not_fixed",
      "CVE-2018-12934": "wont_fix",
    });
  });

  it("trivy: CVSS comes from the source Trivy took the severity from, then NVD", () => {
    const centos = parsed("trivy/centos-7.trivy.json");
    expect(finding(centos, "CVE-2018-0734")).toMatchObject({ cvssScore: 5.1, severity: "low" });
    expect(finding(centos, "CVE-2019-18276")).toMatchObject({ fixState: "wont_fix", fixedVersions: [] });
    const source = parsed("trivy/defectdojo/cvss_severity_source.trivy.json");
    expect(finding(source, "CVE-2023-37920")).toMatchObject({ cvssScore: 7.5, severity: "high" });
    // SeveritySource "ubuntu" has no CVSS entry: NVD's is used.
    expect(finding(source, "CVE-2023-46218")).toMatchObject({ cvssScore: 6.5, severity: "medium" });
  });

  it("trivy gomod: one module in three go.mod files is three findings", () => {
    const report = parsed("trivy/gomod.trivy.json");
    const distribution = report.findings.filter((f) => f.vulnerabilityId === "GMS-2022-20");
    expect(distribution.map((f) => f.packagePath)).toEqual(["go.mod", "submod/go.mod", "submod2/go.mod"]);
  });

  it("trivy legacy list and k8s reports are read", () => {
    const legacy = parsed("trivy/defectdojo/legacy_trivy_mix.trivy.json");
    expect(legacy.format).toBe("trivy-legacy");
    // The composer entry has a package name but no vulnerability id.
    expect(legacy.skippedEntries).toBe(1);
    expect(finding(legacy, "CVE-2018-16487")).toMatchObject({
      packageName: "lodash",
      fixedVersions: [">=4.17.11"],
    });
    const k8s = parsed("trivy/defectdojo/kubernetes.trivy.json");
    expect(k8s.format).toBe("trivy-k8s");
    expect(finding(k8s, "CVE-2020-27350", "apt")).toMatchObject({
      severity: "medium",
      fixedVersions: ["1.8.2.2"],
    });
  });

  it("grype check_all_fields: negligible, won't fix, GHSA with its CVE, a duplicate match dropped", () => {
    const report = parsed("grype/defectdojo/check_all_fields_debian10.grype.json");
    expect(report.findings).toHaveLength(5);
    expect(finding(report, "CVE-2004-0971")).toMatchObject({ severity: "negligible", fixState: "not_fixed" });
    expect(finding(report, "CVE-2021-33574", "libc6")).toMatchObject({
      severity: "critical",
      fixState: "wont_fix",
    });
    expect(finding(report, "GHSA-v6rh-hp5x-86rv")).toMatchObject({
      aliases: ["CVE-2021-44420"],
      fixedVersions: ["3.2.10"],
      fixState: "fixed",
    });
  });

  it("grype 0.9x: EPSS, known exploited and the image digest users pull by", () => {
    const epss = parsed("grype/defectdojo/busybox_epss.grype.json");
    expect(finding(epss, "CVE-2022-28391")).toMatchObject({ epss: 0.0719, cvssScore: 8.8, severity: "high" });
    const kev = parsed("grype/TestJsonDirsPresenter.grype.json");
    expect(finding(kev, "CVE-1999-0002").knownExploited).toBe(true);
    expect(finding(kev, "CVE-1999-0001").knownExploited).toBe(false);
    const keycloak = parsed("grype/keycloak_rhel9.grype.json");
    expect(keycloak.image).toEqual({
      repository: "docker.io/keycloak/keycloak",
      tag: "21.0.2",
      digest: "sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50",
    });
  });

  it("grype: a match without its own severity takes the related record's", () => {
    const report = parsed("grype/defectdojo/issue_9618_rhel8_java.grype.json");
    expect(finding(report, "CVE-2024-26308", "commons-compress")).toMatchObject({
      severity: "high",
      cvssScore: 7.5,
      fixedVersions: ["1.26.0"],
    });
  });

  it("grype 0.7 many_vulns2: 1,567 matches, fixedInVersion read", () => {
    const report = parsed("grype/defectdojo/many_vulns2_python-3.7.10_debian10.grype.json");
    expect(report.findings).toHaveLength(1567);
    expect(report.scanner).toEqual({ name: "grype", version: "0.7.0" });
    const fixed = report.findings.filter((f) => f.fixedVersions.includes("1.1.1d-0+deb10u5"));
    expect(fixed.length).toBeGreaterThan(0);
    expect(fixed.every((f) => f.fixState === "fixed")).toBe(true);
    expect(report.findings.filter((f) => f.severity === "negligible").length).toBeGreaterThan(0);
  });

  it("CycloneDX from Grype gives the same fingerprints as Grype's JSON of the same scan", () => {
    const cdx = parsed("grype/TestCycloneDxPresenterImage.grype.cyclonedx.json");
    const json = parsed("grype/TestJsonImgsPresenter.grype.json");
    expect(cdx.findings.map((f) => f.fingerprint).sort()).toEqual(
      json.findings.map((f) => f.fingerprint).sort(),
    );
    expect(finding(cdx, "CVE-1999-0002")).toMatchObject({
      epss: 0.08,
      knownExploited: true,
      severity: "critical",
    });
  });

  it("CycloneDX: fixes from the recommendation, aliases from references, refs missing from components", () => {
    const snyk = parsed("cyclonedx/defectdojo_valid-vulnerability-1.4.cdx.json");
    expect(finding(snyk, "SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111")).toMatchObject({
      packageName: "com.fasterxml.jackson.core:jackson-databind",
      installedVersion: "2.9.4",
      fixedVersions: ["2.6.7.5", "2.8.11.1", "2.9.5"],
      aliases: ["CVE-2018-7489"],
      severity: "critical",
      cvssScore: 9.8,
    });
    const trivy = parsed("cyclonedx/defectdojo_issue_9277.cdx.json");
    expect(finding(trivy, "TEMP-0290435-0B57B5")).toMatchObject({
      packageName: "tar",
      installedVersion: "1.30+dfsg-6",
    });
    // The vulnerability's source (ubuntu) rates it low; NVD says medium.
    expect(finding(trivy, "CVE-2016-2781")).toMatchObject({ severity: "low", packageType: "ubuntu" });
    expect(trivy.image).toEqual({
      repository: "docker.io/library/ubuntu",
      tag: "latest",
      digest: "sha256:6042500cf4b44023ea1894effe7890666b0c5c7871ed83a97c36c76ae560bb9b",
    });
    expect(parsed("trivy/npm.trivy.cyclonedx.json").findings[0]?.fixedVersions).toEqual(["3.4.0"]);
  });

  it("clair debian: '0:0' is not a fix, and the NVD enrichment gives CVSS and severity", () => {
    const report = parsed("clair/clair-action_debian-stretch.clair.json");
    expect(report.findings.every((f) => f.fixedVersions.length === 0 && f.fixState === "unknown")).toBe(true);
    expect(finding(report, "CVE-2018-6829", "libgcrypt20")).toMatchObject({
      cvssScore: 7.5,
      severity: "high",
    });
    expect(report.image.digest).toBe(
      "sha256:fe3d51dd3262e5d9b9584603da59e387619234d95182351e4f493a1e5998f1f0",
    );
  });

  it("clair rhel8: advisory ids, titles, epoch versions and CVE aliases", () => {
    const report = parsed("clair/clair-action_rhel8.clair.json");
    expect(finding(report, "RHSA-2022:0892", "libarchive")).toMatchObject({
      title: "libarchive security update (Moderate)",
      severity: "medium",
      fixedVersions: ["0:3.3.3-3.el8_5"],
      fixState: "fixed",
      aliases: ["CVE-2021-23177", "CVE-2021-31566"],
    });
    expect(finding(report, "pyup.io-38834", "urllib3")).toMatchObject({
      aliases: ["CVE-2020-26137"],
      packageType: "pypi",
    });
  });

  it("clair ubuntu: normalized severities counted as in the report", () => {
    const path = "clair/claircore_ubuntu-18.04.clair.json";
    const raw = obj(load(join(fixtures, path)));
    const vulnerabilities = obj(raw.vulnerabilities);
    const negligible = Object.values(obj(raw.package_vulnerabilities))
      .flatMap(arr)
      .filter((id) => obj(vulnerabilities[String(id)]).normalized_severity === "Negligible").length;
    const report = parsed(path);
    expect(report.findings.filter((f) => f.severity === "negligible")).toHaveLength(negligible);
    expect(report.findings.every((f) => f.fixState === "unknown")).toBe(true);
  });
});
