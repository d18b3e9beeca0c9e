import { isList } from "./json-list.js";

/**
 * Why the value at `path` cannot be the list of findings a report is made of, or null when it can
 * (absent and null count as an empty list). A report whose main list is garbage is damaged, and
 * saying where lets the uploader look at the right place.
 */
export function listProblem(path: string, value: unknown, document = "report"): string | null {
  if (value === undefined || value === null || isList(value)) return null;
  return `The ${document} is damaged: "${path}" should be a list, but it is ${describeJsonType(value)}.`;
}

export const notAnObject = "The report is damaged: it is not a JSON object.";

/** Like `listProblem`, for the JSON objects that Clair uses as maps. */
export function mapProblem(path: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "object" && !Array.isArray(value)) return null;
  return `The report is damaged: "${path}" should be an object, but it is ${describeJsonType(value)}.`;
}

function describeJsonType(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return "a string";
  if (typeof value === "number" || typeof value === "bigint") return "a number";
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "object") return "an object";
  return "not JSON";
}
