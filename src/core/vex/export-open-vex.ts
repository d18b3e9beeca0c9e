export type OpenVexJustification =
  | "component_not_present"
  | "vulnerable_code_not_present"
  | "vulnerable_code_not_in_execute_path"
  | "vulnerable_code_cannot_be_controlled_by_adversary"
  | "inline_mitigations_already_exist";

type StatementBase = {
  vulnerabilityId: string;
  /** Purls (`pkg:oci/app@sha256%3A…?repository_url=…`) are what VEX consumers match on. */
  products: readonly string[];
  /** Packages inside each product the statement is about, e.g. `pkg:deb/debian/openssl`. */
  subcomponents?: readonly string[];
  timestamp?: string;
};

/**
 * The OpenVEX rules are in the type: `not_affected` needs a justification or an impact statement,
 * `affected` needs an action statement.
 */
export type OpenVexStatementInput = StatementBase &
  (
    | { status: "not_affected"; justification: OpenVexJustification; impactStatement?: string }
    | { status: "not_affected"; justification?: never; impactStatement: string }
    | { status: "affected"; actionStatement: string }
    | { status: "fixed" | "under_investigation" }
  );

export type OpenVexInput = {
  /** The document's IRI, e.g. `https://openvex.dev/docs/public/vex-<hash>` or a URN. */
  id: string;
  author: string;
  timestamp: string;
  version?: number;
  statements: readonly [OpenVexStatementInput, ...OpenVexStatementInput[]];
};

type OpenVexProduct = { "@id": string; subcomponents?: { "@id": string }[] };

export type OpenVexStatement = {
  vulnerability: { name: string };
  timestamp?: string;
  products: OpenVexProduct[];
  status: OpenVexStatementInput["status"];
  justification?: OpenVexJustification;
  impact_statement?: string;
  action_statement?: string;
  status_notes?: string;
};

export type OpenVexDocument = {
  "@context": "https://openvex.dev/ns/v0.2.0";
  "@id": string;
  author: string;
  timestamp: string;
  version: number;
  statements: OpenVexStatement[];
};

/** An OpenVEX v0.2.0 document that validates against the published JSON schema. */
export function exportOpenVex(input: OpenVexInput): OpenVexDocument {
  return {
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": input.id,
    author: input.author,
    timestamp: input.timestamp,
    version: input.version ?? 1,
    statements: input.statements.map(toStatement),
  };
}

function toStatement(s: OpenVexStatementInput): OpenVexStatement {
  const subcomponents = [...new Set(s.subcomponents ?? [])].map((id) => ({ "@id": id }));
  const statement: OpenVexStatement = {
    vulnerability: { name: s.vulnerabilityId },
    ...(s.timestamp === undefined ? {} : { timestamp: s.timestamp }),
    products: [...new Set(s.products)].map((id) =>
      subcomponents.length > 0 ? { "@id": id, subcomponents } : { "@id": id },
    ),
    status: s.status,
  };
  if (s.status === "not_affected") {
    if (s.justification !== undefined) {
      statement.justification = s.justification;
      // The schema allows exactly one of justification and impact_statement; the text is kept as a note.
      if (s.impactStatement !== undefined) statement.status_notes = s.impactStatement;
    } else {
      statement.impact_statement = s.impactStatement;
    }
  }
  if (s.status === "affected") statement.action_statement = s.actionStatement;
  return statement;
}
