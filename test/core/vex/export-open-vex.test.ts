import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  exportOpenVex,
  type OpenVexInput,
  type OpenVexStatementInput,
} from "../../../src/core/vex/export-open-vex.js";
import { parseVex } from "../../../src/core/vex/parse-vex.js";

/**
 * The rules of openvex_json_schema_0.2.0.json (openvex/spec), restated here so the exporter is
 * checked against the spec rather than against itself.
 */
const component = z.strictObject({
  "@id": z.string().min(1),
  subcomponents: z.array(z.strictObject({ "@id": z.string().min(1) })).optional(),
});
const statement = z
  .strictObject({
    vulnerability: z.strictObject({ name: z.string().min(1) }),
    timestamp: z.iso.datetime({ offset: true }).optional(),
    products: z.array(component).min(1),
    status: z.enum(["not_affected", "affected", "fixed", "under_investigation"]),
    justification: z
      .enum([
        "component_not_present",
        "vulnerable_code_not_present",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "inline_mitigations_already_exist",
      ])
      .optional(),
    impact_statement: z.string().optional(),
    action_statement: z.string().optional(),
    status_notes: z.string().optional(),
  })
  .refine(
    (s) =>
      s.status !== "not_affected" || (s.justification === undefined) !== (s.impact_statement === undefined),
    {
      message: "not_affected needs exactly one of justification and impact_statement",
    },
  )
  .refine((s) => s.status !== "affected" || s.action_statement !== undefined, {
    message: "affected needs an action_statement",
  });
const openVexDocument = z.strictObject({
  "@context": z.literal("https://openvex.dev/ns/v0.2.0"),
  "@id": z.string().min(1),
  author: z.string().min(1),
  timestamp: z.iso.datetime({ offset: true }),
  version: z.number().int().min(1),
  statements: z.array(statement).min(1),
});

const image = "pkg:oci/payments-api@sha256%3A4f1c?repository_url=ghcr.io/acme/payments-api";

const input: OpenVexInput = {
  id: "https://patchpilot.example.com/vex/2025-01-07-payments-api",
  author: "patchpilot on behalf of @maria",
  timestamp: "2025-01-07T10:00:00Z",
  statements: [
    {
      vulnerabilityId: "CVE-2025-9999",
      products: [image, image],
      subcomponents: ["pkg:deb/debian/openssl"],
      status: "not_affected",
      justification: "vulnerable_code_not_in_execute_path",
      impactStatement: "no TLS server in this image",
    },
    {
      vulnerabilityId: "CVE-2025-1111",
      products: [image],
      status: "not_affected",
      impactStatement: "not reachable",
    },
    {
      vulnerabilityId: "CVE-2025-2222",
      products: [image],
      status: "affected",
      actionStatement: "Upgrade to 1.2.3",
    },
    {
      vulnerabilityId: "CVE-2025-3333",
      products: [image],
      status: "fixed",
      timestamp: "2025-01-06T09:00:00Z",
    },
    { vulnerabilityId: "CVE-2025-4444", products: [image], status: "under_investigation" },
  ],
};

describe("exportOpenVex", () => {
  it("writes a document that satisfies the OpenVEX v0.2.0 schema", () => {
    const result = openVexDocument.safeParse(exportOpenVex(input));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it("keeps a not_affected statement's impact text when it also has a justification, as a note", () => {
    const doc = exportOpenVex(input);
    expect(doc.statements[0]).toEqual({
      vulnerability: { name: "CVE-2025-9999" },
      products: [{ "@id": image, subcomponents: [{ "@id": "pkg:deb/debian/openssl" }] }],
      status: "not_affected",
      justification: "vulnerable_code_not_in_execute_path",
      status_notes: "no TLS server in this image",
    });
    expect(doc.statements[1]).toMatchObject({ impact_statement: "not reachable" });
    expect(doc.statements[1]).not.toHaveProperty("justification");
  });

  it("round-trips through parseVex", () => {
    const parsed = parseVex(exportOpenVex(input));
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.statements.map((s) => [s.vulnerabilityId, s.status, s.products, s.timestamp])).toEqual([
      ["CVE-2025-9999", "not_affected", [image], "2025-01-07T10:00:00Z"],
      ["CVE-2025-1111", "not_affected", [image], "2025-01-07T10:00:00Z"],
      ["CVE-2025-2222", "affected", [image], "2025-01-07T10:00:00Z"],
      ["CVE-2025-3333", "fixed", [image], "2025-01-06T09:00:00Z"],
      ["CVE-2025-4444", "under_investigation", [image], "2025-01-07T10:00:00Z"],
    ]);
    expect(parsed.statements[0]?.subcomponents).toEqual(["pkg:deb/debian/openssl"]);
  });

  // Checked by the compiler (`tsc` fails on an unused @ts-expect-error), as the spec's rules are.
  it("cannot be given a not_affected without a reason, nor an affected without an action", () => {
    const missing: OpenVexStatementInput[] = [
      // @ts-expect-error not_affected needs a justification or an impact statement
      { vulnerabilityId: "CVE-1", products: [image], status: "not_affected" },
      // @ts-expect-error affected needs an action statement
      { vulnerabilityId: "CVE-2", products: [image], status: "affected" },
    ];
    expect(missing).toHaveLength(2);
  });
});
