import type { Severity } from "./normalized-report.js";

// Red Hat (Important, Moderate), Clair v2 (Defcon1) and CycloneDX (info, none) words included:
// a severity we cannot place is "unknown", never guessed upward or downward.
const severityByWord: ReadonlyMap<string, Severity> = new Map<string, Severity>([
  ["critical", "critical"],
  ["defcon1", "critical"],
  ["high", "high"],
  ["important", "high"],
  ["medium", "medium"],
  ["moderate", "medium"],
  ["low", "low"],
  ["negligible", "negligible"],
  ["info", "negligible"],
  ["informational", "negligible"],
  ["none", "negligible"],
]);

export function normalizeSeverity(raw: unknown): Severity {
  if (typeof raw !== "string") return "unknown";
  return severityByWord.get(raw.trim().toLowerCase()) ?? "unknown";
}
