import { z } from "zod";

/**
 * Zod building blocks for reports written by many tool versions: a field may be absent, null,
 * "" or of the wrong type, and none of that should reject the whole report. Absent and null are
 * accepted outright rather than caught: most fields are absent most of the time, and a caught
 * failure builds an issue first, which made 25,000-finding reports several times slower.
 *
 * Trivy and Grype reports, uploaded by the thousand and up to tens of thousands of findings each,
 * are read with the plain readers at the end instead (same leniency): each finding is read straight
 * from the parsed JSON into its normalized form, where a schema would first copy the whole report
 * (tens of MB for a large one, and most of the parsing CPU).
 */

/** A trimmed non-empty string, else null. */
export const optionalText = z
  .string()
  .nullish()
  .catch(null)
  .transform((v) => (v ? v.trim() || null : null));

/** A finite number, else null. */
export const optionalNumber = z
  .number()
  .nullish()
  .catch(null)
  .transform((v) => v ?? null);

/** `schema`'s value, or null when the field is absent or does not match. */
export function optional<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .catch(null)
    .transform((v): z.output<T> | null => v ?? null);
}

const anyList = z.array(z.unknown()).nullish().catch(null);

/** The entries of a list that match `item`; anything that is not a list is an empty list. */
export function lenientList<T extends z.ZodType>(item: T) {
  return anyList.transform((entries) => {
    const kept: z.output<T>[] = [];
    for (const entry of entries ?? []) {
      const parsed = item.safeParse(entry);
      if (parsed.success) kept.push(parsed.data);
    }
    return kept;
  });
}

/** Like `lenientList`, but an entry that does not match stays as null so the caller can count it. */
export function entryList<T extends z.ZodType>(item: T) {
  return anyList.transform((entries) =>
    (entries ?? []).map((entry): z.output<T> | null => {
      const parsed = item.safeParse(entry);
      return parsed.success ? parsed.data : null;
    }),
  );
}

export const textList = lenientList(z.string().trim().min(1));

/**
 * A JSON object used as a map, as a Map: keys are opaque (base64, "__proto__", …) and must not
 * touch an object prototype. Entries that do not match `item` are left out.
 */
export function lenientMap<T extends z.ZodType>(item: T) {
  return z
    .unknown()
    .optional()
    .transform((value) => {
      const map = new Map<string, z.output<T>>();
      if (!isRecord(value)) return map;
      for (const [key, entry] of Object.entries(value)) {
        const parsed = item.safeParse(entry);
        if (parsed.success) map.set(key, parsed.data);
      }
      return map;
    });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A trimmed non-empty string, else null (as `optionalText`). */
export function readText(value: unknown): string | null {
  return typeof value === "string" ? value.trim() || null : null;
}

/** A finite number, else null (as `optionalNumber`). */
export function readNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The object, else null. */
export function readRecord(value: unknown): Record<string, unknown> | null {
  return isRecord(value) ? value : null;
}

/** The entries of a list that are objects; anything that is not a list is an empty list. */
export function readRecords(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** The trimmed non-empty strings of a list (as `textList`). */
export function readTexts(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const kept: string[] = [];
  for (const entry of value) {
    const t = readText(entry);
    if (t !== null) kept.push(t);
  }
  return kept;
}
