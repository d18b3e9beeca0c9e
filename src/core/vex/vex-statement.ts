/** One VEX assertion, whichever format it came from. */
export type VexStatus = "not_affected" | "affected" | "fixed" | "under_investigation";

export type VexStatement = {
  vulnerabilityId: string;
  aliases: string[];
  /** Products as the document names them: purls (`pkg:oci/…`, `pkg:deb/…`), image references or BOM refs. */
  products: string[];
  subcomponents: string[];
  status: VexStatus;
  justification: string | null;
  impactStatement: string | null;
  timestamp: string | null;
};

export type VexFormat = "openvex" | "cyclonedx";

export type ParseVexResult =
  | { ok: true; format: VexFormat; statements: VexStatement[]; skippedStatements: number }
  | { ok: false; code: "unsupported_format" | "invalid_vex"; message: string };

export const vexStatuses: readonly VexStatus[] = ["not_affected", "affected", "fixed", "under_investigation"];
