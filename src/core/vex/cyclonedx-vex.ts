import { z } from "zod";
import { entryList, isRecord, lenientList, optional, optionalText } from "../scan/lenient.js";
import { listProblem } from "../scan/list-problem.js";
import type { ParseVexResult, VexStatement, VexStatus } from "./vex-statement.js";

const states: ReadonlyMap<string, VexStatus> = new Map<string, VexStatus>([
  ["not_affected", "not_affected"],
  ["false_positive", "not_affected"],
  ["resolved", "fixed"],
  ["resolved_with_pedigree", "fixed"],
  ["exploitable", "affected"],
  ["in_triage", "under_investigation"],
]);

const vulnerabilitySchema = z.object({
  id: optionalText,
  references: lenientList(z.object({ id: optionalText })),
  updated: optionalText,
  published: optionalText,
  analysis: optional(
    z.object({
      state: optionalText,
      justification: optionalText,
      detail: optionalText,
      firstIssued: optionalText,
      lastUpdated: optionalText,
    }),
  ),
  affects: lenientList(z.object({ ref: optionalText })),
});

const componentSchema = z.object({ "bom-ref": optionalText, purl: optionalText });

const documentSchema = z.object({
  metadata: optional(z.object({ timestamp: optionalText, component: optional(componentSchema) })),
  components: lenientList(componentSchema),
  vulnerabilities: entryList(vulnerabilitySchema),
});

/**
 * CycloneDX VEX: `vulnerabilities[]` with an `analysis`. A document whose vulnerabilities carry no
 * analysis at all is a scan report, and is refused as VEX.
 */
export function parseCycloneDxVex(doc: unknown): ParseVexResult {
  const problem = isRecord(doc) ? listProblem("vulnerabilities", doc.vulnerabilities, "VEX document") : null;
  if (problem !== null) return { ok: false, code: "invalid_vex", message: problem };

  const parsed = documentSchema.parse(doc);
  // A ref naming a component of this document means nothing outside it; its purl does.
  const purlByRef = new Map<string, string>();
  const metadataComponent = parsed.metadata?.component;
  for (const c of metadataComponent ? [metadataComponent, ...parsed.components] : parsed.components) {
    if (c["bom-ref"] !== null && c.purl !== null && !purlByRef.has(c["bom-ref"]))
      purlByRef.set(c["bom-ref"], c.purl);
  }

  const statements: VexStatement[] = [];
  let skippedStatements = 0;
  let analysed = 0;
  for (const v of parsed.vulnerabilities) {
    if (v?.analysis == null) continue;
    analysed++;
    const status = v.analysis.state === null ? undefined : states.get(v.analysis.state);
    if (v.id === null || status === undefined) {
      skippedStatements++;
      continue;
    }
    const products = v.affects.map((a) => a.ref).filter((ref) => ref !== null);
    statements.push({
      vulnerabilityId: v.id,
      aliases: [...new Set(v.references.flatMap((r) => (r.id === null || r.id === v.id ? [] : [r.id])))],
      products: [...new Set(products.map((ref) => purlByRef.get(ref) ?? ref))],
      subcomponents: [],
      status,
      justification: v.analysis.justification,
      impactStatement: v.analysis.detail,
      timestamp:
        v.analysis.lastUpdated ??
        v.analysis.firstIssued ??
        v.updated ??
        v.published ??
        parsed.metadata?.timestamp ??
        null,
    });
  }
  if (analysed === 0 && parsed.vulnerabilities.length > 0) {
    return {
      ok: false,
      code: "unsupported_format",
      message:
        "This CycloneDX file lists vulnerabilities without any analysis (vulnerabilities[].analysis.state): it is a scan report, not VEX. Upload it as a scan instead.",
    };
  }
  return { ok: true, format: "cyclonedx", statements, skippedStatements };
}
