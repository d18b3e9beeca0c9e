import type { Writable } from "node:stream";
import { Column, getTableColumns, getTableName, is, SQL } from "drizzle-orm";
import { PgDialect, type PgTable } from "drizzle-orm/pg-core";
import type pg from "pg";
import { prepareValue } from "pg/lib/utils.js";
import { statementName } from "./client.js";

const dialect = new PgDialect();

/** One statement with its parameters, sent as a named prepared statement (see `statementName`). */
export type Statement = { text: string; values: readonly unknown[] };

/** A drizzle statement (a `sql` template or a query builder) as text and parameters. */
export function statementOf(statement: SQL | { toSQL(): { sql: string; params: unknown[] } }): Statement {
  const query = "toSQL" in statement ? statement.toSQL() : dialect.sqlToQuery(statement);
  return { text: query.sql, values: query.params };
}

export type Rows = Array<Record<string, unknown>>;

/**
 * `"column" = $n, …` for a patch of `table`'s columns (keyed as drizzle names them), in the
 * table's column order (so one set of columns is always one text, one prepared statement), each
 * value converted as its column converts it and appended to `values`. Undefined values are left
 * out, as drizzle's update leaves them out, and so are the `omit` columns (the caller sets them
 * itself). Plain values only: a drizzle SQL expression is refused, not sent as a value. For a
 * hot statement written by hand (see `rolloutTouch`).
 */
export function setList(
  table: PgTable,
  patch: Record<string, unknown>,
  values: unknown[],
  omit: readonly string[] = [],
): string {
  const columns = getTableColumns(table);
  for (const key of Object.keys(patch))
    if (!(key in columns)) throw new Error(`${getTableName(table)} has no column ${key}`);
  const set: string[] = [];
  for (const [key, column] of Object.entries(columns)) {
    const value = patch[key];
    if (value === undefined || omit.includes(key)) continue;
    if (is(value, SQL) || is(value, Column))
      throw new Error(
        `setList writes plain values; ${getTableName(table)}.${key} was given an SQL expression`,
      );
    values.push(value === null ? null : column.mapToDriverValue(value));
    set.push(`"${column.name}" = $${values.length}`);
  }
  return set.join(", ");
}

/**
 * Sends the statements on `client` together, in one round trip (the pool's connections pipeline:
 * each is written without waiting for the answer to the one before), and returns their rows in
 * order. A string is sent as it is (BEGIN, COMMIT); a `Statement` as a named prepared statement,
 * so Postgres parses and plans its text once per connection. When one fails in Postgres, the rest
 * are still answered (inside a transaction, with "transaction is aborted", and a COMMIT then rolls
 * back); once all are, the first error is thrown. Every value is written as the driver writes a
 * parameter before anything is sent, so a value it cannot write (a circular object) fails here,
 * not between statements: a COMMIT behind it would commit the statements before it.
 */
export async function sendTogether(
  client: pg.PoolClient,
  statements: ReadonlyArray<Statement | string>,
): Promise<Rows[]> {
  const queries = statements.map((s) =>
    typeof s === "string"
      ? s
      : { name: statementName(s.text), text: s.text, values: s.values.map((v) => prepareValue(v)) },
  );
  // Corked, so the queries leave in one write (one packet for Postgres to wake up to), not one each.
  const stream = (client as unknown as { connection?: { stream?: Partial<Writable> } }).connection?.stream;
  stream?.cork?.();
  let sent: Array<Promise<pg.QueryResult>>;
  try {
    sent = queries.map((q) => client.query(q));
  } finally {
    stream?.uncork?.();
  }
  const settled = await Promise.allSettled(sent);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((r) => (r.status === "fulfilled" ? (r.value.rows as Rows) : []));
}
