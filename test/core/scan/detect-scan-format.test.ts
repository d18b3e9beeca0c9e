import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acceptedFormatsHelp, detectScanFormat } from "../../../src/core/scan/detect-scan-format.js";

const ours = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, "../../fixtures/scan", name), "utf8"));

describe("detectScanFormat", () => {
  it.each([
    ["Trivy SchemaVersion 2", { SchemaVersion: 2, ArtifactName: "node:22", Results: [] }, "trivy"],
    [
      "Trivy with no Results (nothing found in a scratch image)",
      { SchemaVersion: 2, ArtifactName: "x" },
      "trivy",
    ],
    ["the old Trivy list", [{ Target: "x (alpine 3.7)", Vulnerabilities: null }], "trivy-legacy"],
    ["a Trivy k8s report with Resources", { ClusterName: "c", Resources: [] }, "trivy-k8s"],
    [
      "an older Trivy k8s report",
      { ClusterName: "c", Vulnerabilities: [], Misconfigurations: [] },
      "trivy-k8s",
    ],
    ["Grype", { matches: [], source: {}, descriptor: { name: "grype" } }, "grype"],
    ["Grype with garbage matches (refused later, as damaged)", { matches: "x" }, "grype"],
    [
      "CycloneDX with vulnerabilities",
      { bomFormat: "CycloneDX", specVersion: "1.6", vulnerabilities: [] },
      "cyclonedx",
    ],
    [
      "Clair v4",
      { manifest_hash: "sha256:ab", packages: {}, vulnerabilities: {}, package_vulnerabilities: {} },
      "clair",
    ],
  ] as const)("%s is %s", (_name, doc, format) => {
    expect(detectScanFormat(doc)).toEqual({ ok: true, format });
  });

  it.each([
    [
      "SARIF",
      { version: "2.1.0", $schema: "https://json.schemastore.org/sarif-2.1.0.json", runs: [] },
      "SARIF",
    ],
    ["SPDX", { spdxVersion: "SPDX-2.3", SPDXID: "SPDXRef-DOCUMENT", packages: [] }, "SPDX"],
    [
      "a CycloneDX SBOM",
      { bomFormat: "CycloneDX", specVersion: "1.5", components: [] },
      "SBOM without vulnerability",
    ],
    ["Trivy SchemaVersion 1", { SchemaVersion: 1, Results: [] }, "SchemaVersion 1"],
    ["a misconfiguration-only Trivy report", ours("trivy-misconfig-only.json"), "--scanners vuln"],
    ["a misconfiguration-only k8s report", { ClusterName: "c", Misconfigurations: [] }, "--scanners vuln"],
    ["OpenVEX", { "@context": "https://openvex.dev/ns/v0.2.0", statements: [] }, "VEX document"],
    ["an empty list", [], "not a Trivy report"],
    ["a string", "report", "not a JSON object"],
    ["null", null, "not a JSON object"],
    ["an unrelated object", { hello: "world" }, "not a vulnerability report"],
  ])("%s is refused with why and what is read", (_name, doc, reason) => {
    const result = detectScanFormat(doc);
    expect(result).toMatchObject({ ok: false, code: "unsupported_format" });
    if (result.ok) return;
    expect(result.message).toContain(reason);
    expect(result.message).toContain(acceptedFormatsHelp);
  });

  it("tells how to produce each accepted report", () => {
    expect(acceptedFormatsHelp).toContain("trivy image -f json -o report.json IMAGE");
    expect(acceptedFormatsHelp).toContain("grype IMAGE -o json");
    expect(acceptedFormatsHelp).toContain("--scanners vuln");
  });
});
