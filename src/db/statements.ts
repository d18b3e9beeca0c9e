import type { Writable } from "node:stream";
import { Column, getTableColumns, getTableName, is, SQL } from "drizzle-orm";
import { PgDialect, type PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
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

type Sent = { name: string | undefined; text: string; values: unknown[] };
type Field = { name: string; dataTypeID: number };
type Connection = {
  parsedStatements: Record<string, string>;
  stream: Partial<Writable>;
  parse(q: { name?: string; text: string; types: unknown[] }): void;
  bind(q: { statement?: string; portal: string; values: unknown[] }): void;
  describe(q: { type: "P"; name: string }): void;
  execute(q: { portal: string; rows: number }): void;
  sync(): void;
  sendCopyFail(message: string): void;
  on(event: "parseComplete" | "readyForQuery" | "end", listener: () => void): void;
  removeListener(event: "parseComplete" | "readyForQuery" | "end", listener: () => void): void;
};

/**
 * Several statements as one request of the extended protocol, ended by one Sync (node-postgres's
 * custom query interface, as pg-cursor uses it): Postgres answers them together and flushes once,
 * where a query each would end each with a Sync, an answer flushed on its own, and a wake-up of
 * this process per statement. After an error Postgres skips the rest up to the Sync, so a COMMIT
 * behind a failed statement never runs: the transaction is left aborted for the caller to roll back.
 */
class StatementBatch {
  readonly done: Promise<Rows[]>;
  /** Set by node-postgres when the connection has a read timeout (`query_timeout`); it clears the timer. */
  callback?: (err: Error | null, result?: unknown) => void;
  private resolve!: (rows: Rows[]) => void;
  private reject!: (e: Error) => void;
  private readonly results: Rows[] = [];
  private rows: Rows = [];
  private fields: Field[] = [];
  private parsers: Array<(v: string) => unknown> = [];
  private parsing: string[] = [];
  private failure?: Error;

  /** What the batch sends, in order (values as written), for a caller that watches the driver. */
  constructor(readonly statements: readonly Sent[]) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: Connection): void {
    // A text counts as prepared on this connection once Postgres confirms it, in the order sent,
    // however the call ends: the answers are followed until the connection is ready again (or
    // gone), even after the call has failed (a read timeout fails it before Postgres answers).
    const onParsed = () => {
      const name = this.parsing.shift();
      const sent = this.statements.find((s) => s.name === name);
      if (name && sent) connection.parsedStatements[name] = sent.text;
    };
    const stop = () => {
      connection.removeListener("parseComplete", onParsed);
      connection.removeListener("readyForQuery", stop);
      connection.removeListener("end", stop);
    };
    connection.on("parseComplete", onParsed);
    connection.on("readyForQuery", stop);
    connection.on("end", stop);
    // Corked, so the whole request leaves in one write (one packet for Postgres to wake up to).
    connection.stream.cork?.();
    try {
      const parsing = new Set<string>();
      for (const s of this.statements) {
        const named =
          s.name !== undefined && (connection.parsedStatements[s.name] !== undefined || parsing.has(s.name));
        if (!named) {
          connection.parse({ ...(s.name !== undefined ? { name: s.name } : {}), text: s.text, types: [] });
          if (s.name !== undefined) parsing.add(s.name);
          this.parsing.push(s.name ?? "");
        }
        connection.bind({
          ...(s.name !== undefined ? { statement: s.name } : {}),
          portal: "",
          values: s.values,
        });
        connection.describe({ type: "P", name: "" });
        connection.execute({ portal: "", rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleRowDescription(msg: { fields: Field[] }): void {
    this.fields = msg.fields;
    this.parsers = msg.fields.map(
      (f) => pg.types.getTypeParser(f.dataTypeID, "text") as (v: string) => unknown,
    );
  }

  handleDataRow(msg: { fields: Array<string | null> }): void {
    const row: Record<string, unknown> = {};
    try {
      for (let i = 0; i < msg.fields.length; i++) {
        const raw = msg.fields[i];
        const field = this.fields[i];
        if (field) row[field.name] = raw === null || raw === undefined ? null : this.parsers[i]?.(raw);
      }
    } catch (e) {
      // A value its type's parser refuses fails the call once Postgres has answered the rest.
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    }
    this.rows.push(row);
  }

  handleCommandComplete(): void {
    this.results.push(this.rows);
    this.rows = [];
    this.fields = [];
  }

  handleEmptyQuery(): void {
    this.handleCommandComplete();
  }

  handleError(err: Error): void {
    this.callback?.(err);
    this.reject(err);
  }

  handleReadyForQuery(): void {
    if (this.failure) {
      this.handleError(this.failure);
      return;
    }
    this.callback?.(null, this.results);
    this.resolve(this.results);
  }

  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: Connection): void {
    // Refused before sending (`sendTogether`); should one get here, end the COPY so the
    // connection stays in step: Postgres ignored our Sync while copying and needs another.
    connection.sendCopyFail("COPY is not sent together with other statements");
    connection.sync();
  }
  handleCopyData(): void {}
}

/**
 * Sends the statements on `client` together, in one round trip and one request (see
 * `StatementBatch`), and returns their rows in order. Each is sent as a named prepared statement
 * (BEGIN and COMMIT too), so Postgres parses and plans its text once per connection. When one fails
 * in Postgres, the rest are skipped and its error is thrown; a transaction it was in is left
 * aborted, for the caller to roll back (a COMMIT behind it does not run). Every value is written
 * as the driver writes a parameter before anything is sent, so a value it cannot write (a circular
 * object) fails here, with nothing sent.
 */
export async function sendTogether(
  client: pg.PoolClient,
  statements: ReadonlyArray<Statement | string>,
): Promise<Rows[]> {
  const sent: Sent[] = statements.map((s) => {
    const text = typeof s === "string" ? s : s.text;
    if (/^\s*copy\b/i.test(text)) throw new Error("COPY cannot be sent together with other statements");
    const values = typeof s === "string" ? [] : s.values.map((v) => prepareValue(v));
    return { name: statementName(text), text, values };
  });
  const batch = new StatementBatch(sent);
  client.query(batch as unknown as pg.QueryConfig);
  return batch.done;
}
