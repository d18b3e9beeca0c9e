import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";

/**
 * A timestamptz as whole milliseconds since the epoch, truncated as a JavaScript Date would hold
 * it. drizzle hands raw queries' timestamps over as text in the session's format; a number
 * needs no date parsing and cannot be misread.
 */
export function epochMs(expr: SQL): SQL {
  return sql`floor(extract(epoch FROM ${expr}) * 1000)::float8`;
}

/** Parses what `epochMs` selected. */
export const msDate = z.number().transform((ms) => new Date(ms));
