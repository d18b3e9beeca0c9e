import { describe, expect, it } from "vitest";
import { parseScanReport } from "../../../src/core/scan/parse-scan-report.js";

/** A Grype report the size of a large image's: `n` matches over 500 packages. */
function grypeReport(n: number): unknown {
  return {
    matches: Array.from({ length: n }, (_, i) => ({
      vulnerability: {
        id: `CVE-2024-${10000 + i}`,
        severity: "High",
        fix: { versions: ["1.1"], state: "fixed" },
        cvss: [
          {
            version: "3.1",
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
            metrics: { baseScore: 7.5 },
          },
        ],
        epss: [{ epss: 0.1 }],
        urls: ["https://example.com"],
      },
      relatedVulnerabilities: [{ id: `GHSA-${i}` }],
      artifact: {
        name: `pkg${i % 500}`,
        version: "1.0",
        type: "deb",
        locations: [{ path: "/var/lib/dpkg/status", layerID: "sha256:1" }],
      },
    })),
    source: { type: "image", target: { userInput: "app:1", layers: [{ digest: "sha256:1" }] } },
  };
}

describe("parseScanReport at ingest scale", () => {
  // A quadratic step (a lookup per finding in a list of findings) takes minutes at this size.
  it("reads 25,000 findings in well under the upload timeout", () => {
    const doc = grypeReport(25_000);
    const started = performance.now();
    const result = parseScanReport(doc);
    const elapsed = performance.now() - started;
    expect(result.ok && result.report.findings.length).toBe(25_000);
    expect(elapsed).toBeLessThan(10_000);
  });
});
