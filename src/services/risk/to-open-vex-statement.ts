import type { OpenVexJustification, OpenVexStatementInput } from "../../core/vex/export-open-vex.js";
import type { RiskAcceptance } from "./valid-acceptance.js";

const openVexJustifications: readonly OpenVexJustification[] = [
  "component_not_present",
  "vulnerable_code_not_present",
  "vulnerable_code_not_in_execute_path",
  "vulnerable_code_cannot_be_controlled_by_adversary",
  "inline_mitigations_already_exist",
];

// CycloneDX justifications with an OpenVEX equivalent; the rest (requires_configuration, …)
// stay in the impact statement rather than be forced into a claim they do not make.
const fromCycloneDx: ReadonlyMap<string, OpenVexJustification> = new Map([
  ["code_not_present", "vulnerable_code_not_present"],
  ["code_not_reachable", "vulnerable_code_not_in_execute_path"],
  ["protected_by_compiler", "inline_mitigations_already_exist"],
  ["protected_at_runtime", "inline_mitigations_already_exist"],
  ["protected_at_perimeter", "inline_mitigations_already_exist"],
  ["protected_by_mitigating_control", "inline_mitigations_already_exist"],
]);

/**
 * One acceptance or imported decision as an OpenVEX statement about `product`, or null for a
 * status OpenVEX has no word for.
 *
 * A person's acceptance becomes `not_affected` with an impact statement and no justification:
 * every justification is a machine-readable claim about the code (absent, unreachable,
 * mitigated) that scanners act on, and an acceptance asserts none of them — it records who
 * decided the risk is tolerable, why, and until when.
 */
export function toOpenVexStatement(row: RiskAcceptance, product: string): OpenVexStatementInput | null {
  const base = {
    vulnerabilityId: row.vulnerabilityId,
    products: [product],
    timestamp: row.createdAt.toISOString(),
  };
  if (row.source !== "vex") {
    const until = row.expiresAt === null ? "further notice" : row.expiresAt.toISOString();
    const scope = row.teamId === null ? "" : ` for every image of team ${row.teamId}`;
    return {
      ...base,
      status: "not_affected",
      impactStatement: `${row.reason} (risk accepted${scope} by ${row.acceptedByName ?? row.acceptedBy} until ${until})`,
    };
  }
  switch (row.status) {
    case "not_affected": {
      const given = row.justification;
      const justification =
        openVexJustifications.find((j) => j === given) ??
        (given === null ? undefined : fromCycloneDx.get(given));
      if (justification !== undefined)
        return { ...base, status: "not_affected", justification, impactStatement: row.reason };
      const note = given === null ? "" : ` (justification: ${given})`;
      return { ...base, status: "not_affected", impactStatement: `${row.reason}${note}` };
    }
    case "affected":
      return { ...base, status: "affected", actionStatement: row.reason };
    case "fixed":
    case "under_investigation":
      return { ...base, status: row.status };
    default:
      return null;
  }
}
