import { isRecord } from "../scan/lenient.js";
import { parseCycloneDxVex } from "./cyclonedx-vex.js";
import { parseOpenVex } from "./openvex.js";
import type { ParseVexResult } from "./vex-statement.js";

export const acceptedVexHelp =
  "patchpilot reads OpenVEX (v0.2.0, as written by `vexctl create` or Copa) and CycloneDX VEX (vulnerabilities with an `analysis`).";

/** VEX statements from a parsed JSON document, or why it cannot be read. Never throws. */
export function parseVex(doc: unknown): ParseVexResult {
  if (!isRecord(doc)) return refuse("The VEX document is not a JSON object.");
  const context = doc["@context"];
  if (typeof context === "string" && context.startsWith("https://openvex.dev/ns")) return parseOpenVex(doc);
  if (doc.bomFormat === "CycloneDX") {
    if ("vulnerabilities" in doc) return parseCycloneDxVex(doc);
    return refuse('This CycloneDX file has no "vulnerabilities" list, so it holds no VEX statements.');
  }
  if (isRecord(doc.document) && "product_tree" in doc) return refuse("CSAF VEX is not read.");
  if ("statements" in doc) {
    return refuse(
      "This looks like an OpenVEX document from before v0.2.0 (no @context); regenerate it with a current vexctl.",
    );
  }
  return refuse("This JSON is not a VEX document patchpilot recognises.");
}

function refuse(reason: string): ParseVexResult {
  return { ok: false, code: "unsupported_format", message: `${reason} ${acceptedVexHelp}` };
}
