import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseVex } from "../../../src/core/vex/parse-vex.js";

const cyclonedx = (analysis: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  bomFormat: "CycloneDX",
  specVersion: "1.5",
  metadata: {
    timestamp: "2025-01-01T00:00:00Z",
    component: { "bom-ref": "app", purl: "pkg:oci/app@sha256%3Aab" },
  },
  vulnerabilities: [
    { id: "CVE-2021-44228", analysis, affects: [{ ref: "app" }, { ref: "other-ref" }], ...extra },
  ],
});

describe("parseVex: CycloneDX", () => {
  it.each([
    ["not_affected", "not_affected"],
    ["false_positive", "not_affected"],
    ["resolved", "fixed"],
    ["resolved_with_pedigree", "fixed"],
    ["exploitable", "affected"],
    ["in_triage", "under_investigation"],
  ])("analysis.state %s is %s", (state, status) => {
    const result = parseVex(cyclonedx({ state }));
    expect(result.ok && result.statements.map((s) => s.status)).toEqual([status]);
  });

  it("an unknown state is skipped and counted", () => {
    expect(parseVex(cyclonedx({ state: "maybe" }))).toMatchObject({
      ok: true,
      statements: [],
      skippedStatements: 1,
    });
  });

  it("keeps justification and detail, resolves a local ref to its purl, and keeps other refs as written", () => {
    const result = parseVex(
      cyclonedx(
        {
          state: "not_affected",
          justification: "code_not_reachable",
          detail: "never loaded",
          lastUpdated: "2025-02-02T00:00:00Z",
        },
        { references: [{ id: "GHSA-jfh8-c2jp-5v3q" }, { id: "CVE-2021-44228" }] },
      ),
    );
    expect(result).toEqual({
      ok: true,
      format: "cyclonedx",
      skippedStatements: 0,
      statements: [
        {
          vulnerabilityId: "CVE-2021-44228",
          aliases: ["GHSA-jfh8-c2jp-5v3q"],
          products: ["pkg:oci/app@sha256%3Aab", "other-ref"],
          subcomponents: [],
          status: "not_affected",
          justification: "code_not_reachable",
          impactStatement: "never loaded",
          timestamp: "2025-02-02T00:00:00Z",
        },
      ],
    });
  });

  it("refuses a scan report whose vulnerabilities carry no analysis", () => {
    const result = parseVex({
      bomFormat: "CycloneDX",
      vulnerabilities: [{ id: "CVE-1", affects: [{ ref: "x" }] }],
    });
    expect(result).toMatchObject({ ok: false, code: "unsupported_format" });
    if (!result.ok) expect(result.message).toContain("scan report");
  });

  it("refuses vulnerabilities that are not a list, naming them", () => {
    expect(parseVex({ bomFormat: "CycloneDX", vulnerabilities: "x" })).toMatchObject({
      ok: false,
      code: "invalid_vex",
      message: 'The VEX document is damaged: "vulnerabilities" should be a list, but it is a string.',
    });
  });
});

describe("parseVex: OpenVEX", () => {
  it("reads Copa's document: unversioned context, the vulnerability named in @id", () => {
    const copa = {
      "@context": "https://openvex.dev/ns",
      "@id": "https://openvex.dev/docs/public/vex-a6c4",
      author: "Project Copacetic",
      timestamp: "2023-10-11T00:15:00.114768055Z",
      version: 1,
      statements: [
        {
          vulnerability: { "@id": "CVE-2021-22945" },
          products: [
            {
              "@id": "pkg:oci/docker.io/library/nginx:1.21.6-patched",
              subcomponents: [{ "@id": "pkg:deb/debian/curl@7.74.0-1.3+deb11u2?arch=amd64" }],
            },
          ],
          status: "fixed",
        },
      ],
    };
    expect(parseVex(copa)).toEqual({
      ok: true,
      format: "openvex",
      skippedStatements: 0,
      statements: [
        {
          vulnerabilityId: "CVE-2021-22945",
          aliases: [],
          products: ["pkg:oci/docker.io/library/nginx:1.21.6-patched"],
          subcomponents: ["pkg:deb/debian/curl@7.74.0-1.3+deb11u2?arch=amd64"],
          status: "fixed",
          justification: null,
          impactStatement: null,
          // The statement has none: the document's applies.
          timestamp: "2023-10-11T00:15:00.114768055Z",
        },
      ],
    });
  });

  it("takes products written as bare strings or by identifiers.purl", () => {
    const result = parseVex({
      "@context": "https://openvex.dev/ns/v0.2.0",
      statements: [
        {
          vulnerability: "CVE-2024-1",
          products: ["ghcr.io/acme/api:1.2", { identifiers: { purl: "pkg:oci/api" } }],
          status: "under_investigation",
          timestamp: "2024-01-01T00:00:00Z",
        },
      ],
    });
    expect(result.ok && result.statements[0]).toMatchObject({
      vulnerabilityId: "CVE-2024-1",
      products: ["ghcr.io/acme/api:1.2", "pkg:oci/api"],
      timestamp: "2024-01-01T00:00:00Z",
    });
  });

  it("skips statements without a vulnerability or with an unknown status, and counts them", () => {
    const result = parseVex({
      "@context": "https://openvex.dev/ns/v0.2.0",
      statements: [
        { status: "fixed", products: [] },
        { vulnerability: { name: "CVE-1" }, status: "patched" },
        7,
      ],
    });
    expect(result).toMatchObject({ ok: true, statements: [], skippedStatements: 3 });
  });

  it("refuses statements that are not a list, naming them", () => {
    const result = parseVex({ "@context": "https://openvex.dev/ns/v0.2.0", statements: { a: 1 } });
    expect(result).toMatchObject({ ok: false, code: "invalid_vex" });
    if (!result.ok) expect(result.message).toContain('"statements"');
  });
});

describe("parseVex never throws", () => {
  const weird = fc.anything({
    withNullPrototype: true,
    withBigInt: true,
    withMap: true,
    withBoxedValues: true,
    withSparseArray: true,
  });
  it("on anything, or anything inside a VEX-shaped document", () => {
    const docs = fc.oneof(
      weird,
      fc.record({
        "@context": fc.constant("https://openvex.dev/ns/v0.2.0"),
        statements: fc.array(weird),
        timestamp: weird,
      }),
      fc.record({
        bomFormat: fc.constant("CycloneDX"),
        vulnerabilities: fc.array(weird),
        metadata: weird,
        components: weird,
      }),
    );
    fc.assert(
      fc.property(docs, (doc) => {
        const result = parseVex(doc);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });
});
