import { z } from "zod";
import { entryList, isRecord, lenientList, optional, optionalText, textList } from "../scan/lenient.js";
import { listProblem } from "../scan/list-problem.js";
import { type ParseVexResult, type VexStatement, type VexStatus, vexStatuses } from "./vex-statement.js";

// Early OpenVEX and some tools write a bare string where v0.2.0 has {"@id": …}.
const reference = z.union([
  z
    .string()
    .trim()
    .min(1)
    .transform((id): string | null => id),
  z
    .object({ "@id": optionalText, identifiers: optional(z.object({ purl: optionalText })) })
    .transform((p) => p["@id"] ?? p.identifiers?.purl ?? null),
]);

const productSchema = z.union([
  z
    .string()
    .trim()
    .min(1)
    .transform((id) => ({ id, subcomponents: [] as (string | null)[] })),
  z
    .object({
      "@id": optionalText,
      identifiers: optional(z.object({ purl: optionalText })),
      subcomponents: lenientList(reference),
    })
    .transform((p) => ({ id: p["@id"] ?? p.identifiers?.purl ?? null, subcomponents: p.subcomponents })),
]);

const vulnerabilitySchema = z.union([
  z
    .string()
    .trim()
    .min(1)
    .transform((name) => ({ name, id: null, aliases: [] as string[] })),
  // Copa names the vulnerability in "@id" only.
  z
    .object({ name: optionalText, "@id": optionalText, aliases: textList })
    .transform((v) => ({ name: v.name, id: v["@id"], aliases: v.aliases })),
]);

const statementSchema = z.object({
  vulnerability: optional(vulnerabilitySchema),
  products: lenientList(productSchema),
  subcomponents: lenientList(reference),
  status: optionalText,
  justification: optionalText,
  impact_statement: optionalText,
  timestamp: optionalText,
});

const documentSchema = z.object({ timestamp: optionalText, statements: entryList(statementSchema) });

/** OpenVEX v0.2.0, and the unversioned `https://openvex.dev/ns` context that Copa writes. */
export function parseOpenVex(doc: unknown): ParseVexResult {
  const problem = isRecord(doc) ? listProblem("statements", doc.statements, "VEX document") : null;
  if (problem !== null) return { ok: false, code: "invalid_vex", message: problem };

  const parsed = documentSchema.parse(doc);
  const statements: VexStatement[] = [];
  let skippedStatements = 0;
  for (const s of parsed.statements) {
    const vulnerabilityId = s?.vulnerability?.name ?? s?.vulnerability?.id ?? null;
    const status = toStatus(s?.status ?? null);
    if (s === null || vulnerabilityId === null || status === null) {
      skippedStatements++;
      continue;
    }
    const productIds = s.products.map((p) => p.id).filter((id) => id !== null);
    const subcomponents = [...s.subcomponents, ...s.products.flatMap((p) => p.subcomponents)].filter(
      (id) => id !== null,
    );
    statements.push({
      vulnerabilityId,
      aliases: (s.vulnerability?.aliases ?? []).filter((a) => a !== vulnerabilityId),
      products: [...new Set(productIds)],
      subcomponents: [...new Set(subcomponents)],
      status,
      justification: s.justification,
      impactStatement: s.impact_statement,
      // A statement without its own timestamp inherits the document's (OpenVEX spec, "timestamp").
      timestamp: s.timestamp ?? parsed.timestamp,
    });
  }
  return { ok: true, format: "openvex", statements, skippedStatements };
}

function toStatus(status: string | null): VexStatus | null {
  return vexStatuses.find((s) => s === status) ?? null;
}
