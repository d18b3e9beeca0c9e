import { createHash } from "node:crypto";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import { prepareValue } from "pg/lib/utils.js";
import * as schema from "./schema/index.js";

export type Db = NodePgDatabase<typeof schema>;
/** A transaction of `Db`; repositories take `Db | Tx` so callers choose the transaction. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** The pool under a `Db`, for the few statements drizzle cannot send (several in one round trip). */
export function poolOf(db: Db): pg.Pool {
  const pool = (db as { $client?: unknown }).$client;
  if (!(pool instanceof pg.Pool)) throw new Error("this database handle is not backed by a pg pool");
  return pool;
}

/**
 * The connection under a transaction (of `db.transaction` or `txOnClient`), for statements that
 * travel together in one round trip (`sendTogether`).
 */
export function clientOf(tx: Tx): pg.PoolClient {
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client;
  if (!(client instanceof pg.Client)) throw new Error("this transaction is not on a pg connection");
  return client as pg.PoolClient;
}

/**
 * The driver under a handle (its pool, or a transaction's connection), for a written-out
 * statement sent as a named prepared statement: each connection parses and plans it once.
 */
export function driverOf(db: Db | Tx): pg.Pool | pg.PoolClient {
  const pool = (db as { $client?: unknown }).$client;
  return pool instanceof pg.Pool ? pool : clientOf(db as Tx);
}

// The same drizzle API as `db.transaction` gives, on one pooled connection whose transaction
// the caller opened and will end itself. Made once per connection: drizzle reads the whole schema
// each time it is set up.
const txs = new WeakMap<pg.PoolClient, Tx>();
export function txOnClient(client: pg.PoolClient): Tx {
  let tx = txs.get(client);
  if (!tx) {
    tx = drizzle(client, { schema }) as unknown as Tx;
    // A nested transaction would BEGIN on this connection and COMMIT the outer one early.
    Object.assign(tx, {
      transaction: () => {
        throw new Error("this transaction cannot open another transaction inside it");
      },
    });
    txs.set(client, tx);
  }
  return tx;
}

/** Enough for every job a worker runs at once (two connections each) plus HTTP requests. */
export const DB_POOL_SIZE = 30;
export type Database = { pool: pg.Pool; db: Db; close(): Promise<void> };

/** The role the application acts as; it may not UPDATE, DELETE or TRUNCATE the audit trail. */
export const APP_ROLE = "patchpilot_app";

// Statement texts given a name so far, process-wide. A name is a digest of its text, so one text
// has one name on every connection and two texts never share one.
const names = new Map<string, string>();
const MAX_NAMED = 2_000;
const MAX_NAMED_LENGTH = 16_384;

/**
 * The name a statement text is prepared under, or undefined once 2,000 texts have names or for a
 * text over 16 KiB: those go unnamed (parsed and planned each time), so a connection holds a
 * bounded number of prepared statements.
 */
export function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED && text.length <= MAX_NAMED_LENGTH) {
    name = `pp_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

type QueryConfigLike = { text?: unknown; name?: unknown; values?: unknown; submit?: unknown };

/**
 * Makes `client` send each parameterized statement (drizzle's included) as a named prepared
 * statement: Postgres parses and plans a text once per connection, then only binds and executes
 * it. Protocol-level, so PgBouncer's transaction pooling keeps them (`max_prepared_statements`).
 */
function prepareStatements(client: pg.PoolClient): void {
  const query = (config: unknown, values?: unknown, callback?: unknown): unknown => {
    // Looked up on each call, so a wrapper installed on the prototype later (the bench's capture) runs.
    const send = (...args: unknown[]) =>
      (pg.Client.prototype.query as (...a: unknown[]) => unknown).apply(client, args);
    if (typeof values === "function") return send(config, values);
    // A text without parameters may hold several statements: only the simple protocol takes those.
    const c: unknown =
      typeof config === "string" && Array.isArray(values) && values.length > 0 ? { text: config } : config;
    if (c === null || typeof c !== "object") return send(config, values, callback);
    const q = c as QueryConfigLike;
    const params = values ?? q.values;
    if (
      q.submit !== undefined ||
      q.name !== undefined ||
      typeof q.text !== "string" ||
      !Array.isArray(params) ||
      params.length === 0
    )
      return send(config, values, callback);
    // Values are written before the statement is sent: a value the driver fails to write while
    // sending makes it close the named statement on the server but not forget it was parsed,
    // and every later use of the text on this connection would fail.
    let written: unknown[];
    try {
      written = params.map((v: unknown) => prepareValue(v));
    } catch (e) {
      if (typeof callback === "function") {
        process.nextTick(callback, e);
        return undefined;
      }
      return Promise.reject(e);
    }
    q.name = statementName(q.text);
    return send(q, written, callback);
  };
  client.query = query as pg.PoolClient["query"];
}

export function createDatabase(url: string, opts: { max?: number; appRole?: boolean } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? DB_POOL_SIZE,
    // A click must be answered within 2.5 s even when Postgres stalls (QUALITY.md scenario 8).
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 10_000,
    application_name: "patchpilot",
    // Every connection acts as the restricted role from its first statement on.
    ...(opts.appRole !== false ? { options: `-c role=${APP_ROLE}` } : {}),
  });
  // A client losing its server (restart, network) must not crash the process: idle ones report
  // on the pool, busy ones on themselves (their query fails and its caller sees that).
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
    prepareStatements(client);
  });
  const db = drizzle(pool, { schema });
  return { pool, db, close: () => pool.end() };
}
