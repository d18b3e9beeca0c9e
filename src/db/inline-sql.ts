import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import pg from "pg";
import { prepareValue } from "pg/lib/utils.js";

const dialect = new PgDialect();

/** A drizzle statement: a `sql` template or a query builder. */
export type Statement = SQL | { toSQL(): { sql: string; params: unknown[] } };

/**
 * The statement with each `$n` replaced by its value as a quoted literal, so that it can travel
 * with others in one simple query (one round trip, where parameters need one each). Values are
 * written as the driver would send them as parameters (`prepareValue`: dates, arrays, JSON) and
 * escaped by the driver. A quoted literal takes its type from the context as a parameter does;
 * write a cast (`::jsonb`) wherever the context does not give one. Only for statements we write:
 * `$n` is replaced outside quotes; comments, `E'…'` strings and dollar-quoted text are refused.
 */
export function inlineSql(statement: Statement): string {
  const query = "toSQL" in statement ? statement.toSQL() : dialect.sqlToQuery(statement);
  return withLiterals(query.sql, query.params);
}

export function withLiterals(text: string, params: readonly unknown[]): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    // A comment or an escape string would end where this scan does not see it end.
    if ((c === "-" && text[i + 1] === "-") || (c === "/" && text[i + 1] === "*"))
      throw new Error("inlineSql cannot place values into a statement with comments");
    if (c === "'" && /[eE]/.test(text[i - 1] ?? "") && !/\w/.test(text[i - 2] ?? ""))
      throw new Error("inlineSql cannot place values into a statement with E'…' strings");
    if (c === "'" || c === '"') {
      // A quoted string or identifier, with its doubled quotes: copied as it is.
      let j = i + 1;
      while (j < text.length && !(text[j] === c && text[j + 1] !== c)) j += text[j] === c ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "$") {
      const m = /^\$(\d+)/.exec(text.slice(i, i + 12));
      if (!m?.[1]) throw new Error("inlineSql cannot place values into dollar-quoted text");
      const n = Number(m[1]);
      if (n < 1 || n > params.length) throw new Error(`inlineSql: no value for $${n}`);
      out += literal(params[n - 1]);
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function literal(value: unknown): string {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return "NULL";
  if (typeof prepared !== "string") throw new Error("inlineSql cannot write binary values as literals");
  return pg.escapeLiteral(prepared);
}
