import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acceptedVexHelp, parseVex } from "../../../src/core/vex/parse-vex.js";

/** Every VEX document in ../shared/fixtures/vex (see its SOURCES.md), counted from the raw JSON. */
const dir = join(import.meta.dirname, "../../../../shared/fixtures/vex");
if (!existsSync(dir)) console.warn(`VEX conformance: ${dir} is absent, skipping`);

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const obj = (v: unknown): Json => (isJson(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function filesIn(path: string): string[] {
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const full = join(path, name);
      return statSync(full).isDirectory() ? filesIn(full) : name.endsWith(".json") ? [full] : [];
    });
}

const cycloneDxStates = new Set([
  "not_affected",
  "false_positive",
  "resolved",
  "resolved_with_pedigree",
  "exploitable",
  "in_triage",
]);

function expectedStatements(doc: unknown): number {
  const d = obj(doc);
  if (d.bomFormat === "CycloneDX") {
    return arr(d.vulnerabilities).filter((v) => cycloneDxStates.has(String(obj(obj(v).analysis).state)))
      .length;
  }
  return arr(d.statements).length;
}

// CSAF, OpenVEX from before @context existed, and a CycloneDX SBOM with no vulnerabilities.
const refused = (path: string) =>
  path.includes("/csaf/") || path.includes("LEGACY") || path.endsWith("_VEX_bom.cdx.json");

describe.skipIf(!existsSync(dir))("VEX conformance", () => {
  const files = existsSync(dir) ? filesIn(dir) : [];
  const name = (path: string) => path.slice(dir.length + 1);

  it.each(files.filter((f) => !refused(f)).map((f) => [name(f), f]))(
    "%s yields every statement",
    (_n, path) => {
      const doc: unknown = JSON.parse(readFileSync(path, "utf8"));
      const result = parseVex(doc);
      if (!result.ok) throw new Error(result.message);
      expect(result.statements).toHaveLength(expectedStatements(doc));
      expect(result.skippedStatements).toBe(0);
      for (const s of result.statements) expect(s.products.length).toBeGreaterThan(0);
    },
  );

  it.each(files.filter(refused).map((f) => [name(f), f]))(
    "%s is refused, saying what is read",
    (_n, path) => {
      const result = parseVex(JSON.parse(readFileSync(path, "utf8")));
      expect(result).toMatchObject({ ok: false, code: "unsupported_format" });
      if (!result.ok) expect(result.message).toContain(acceptedVexHelp);
    },
  );

  it("OpenVEX: image products keep their package subcomponents, and aliases are kept", () => {
    const demo = parseVex(
      JSON.parse(readFileSync(join(dir, "openvex/grype_openvex-demo1.openvex.json"), "utf8")),
    );
    expect(demo).toMatchObject({
      ok: true,
      statements: [
        {
          vulnerabilityId: "CVE-2023-1255",
          status: "fixed",
          subcomponents: ["pkg:apk/alpine/libssl3@3.0.8-r3", "pkg:apk/alpine/libcrypto3@3.0.8-r3"],
        },
      ],
    });
    const trivy = parseVex(JSON.parse(readFileSync(join(dir, "openvex/trivy_self.openvex.json"), "utf8")));
    expect(trivy.ok && trivy.statements[0]).toMatchObject({
      vulnerabilityId: "GO-2024-2575",
      aliases: ["CVE-2024-26147", "GHSA-r53h-jv2g-vpx6"],
      justification: "vulnerable_code_not_in_execute_path",
      impactStatement: "Govulncheck determined that the vulnerable code isn't called",
    });
  });
});
