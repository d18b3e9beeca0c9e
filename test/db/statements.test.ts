import { sql } from "drizzle-orm";
import { jsonb, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../src/db/client.js";
import { sendTogether, setList, statementOf } from "../../src/db/statements.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

let database: TestDatabase;
let app: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 1 });
});

afterAll(async () => {
  await app.close();
  await database.drop();
});

const prepared = async () =>
  (await app.pool.query("SELECT statement FROM pg_prepared_statements ORDER BY statement")).rows.map(
    (r: { statement: string }) => r.statement,
  );

describe("statements sent as prepared statements", () => {
  it("prepares a parameterized text once per connection, drizzle's included, and reuses it", async () => {
    const text = "SELECT $1::int + 1 AS next";
    for (const n of [1, 2, 3]) {
      const r = await app.pool.query(text, [n]);
      expect(r.rows).toEqual([{ next: n + 1 }]);
    }
    const viaDrizzle = await app.db.execute(sql`SELECT ${"x"}::text || 'y' AS xy`);
    expect(viaDrizzle.rows).toEqual([{ xy: "xy" }]);
    const statements = await prepared();
    expect(statements.filter((s) => s === text)).toHaveLength(1);
    expect(statements.filter((s) => s.includes("|| 'y' AS xy"))).toHaveLength(1);
    // A text without parameters may hold several statements: it goes as a simple query.
    const several = (await app.pool.query("SELECT 1 AS a; SELECT 2 AS b")) as unknown as Array<{
      rows: unknown[];
    }>;
    expect(several.map((r) => r.rows)).toEqual([[{ a: 1 }], [{ b: 2 }]]);
  });

  it("a value the driver cannot write fails its query alone: the statement still works on that connection", async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const query = (db: Pick<Database["db"], "execute">, v: unknown) =>
      db.execute(sql`SELECT ${v}::jsonb ->> 'k' AS k`);
    expect((await query(app.db, { k: "before" })).rows).toEqual([{ k: "before" }]);
    // In a transaction, whose connection goes back to the pool as sound once rolled back.
    await expect(app.db.transaction((tx) => query(tx, circular))).rejects.toThrow(/Failed query/);
    expect((await query(app.db, { k: "after" })).rows).toEqual([{ k: "after" }]);
  });

  it("sends statements together as one request, answered in order and at once", async () => {
    const client = await app.pool.connect();
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    let answers = 0;
    const count = () => answers++;
    connection.on("readyForQuery", count);
    try {
      const rows = await sendTogether(client, [
        "BEGIN",
        statementOf(sql`SELECT ${41}::int + 1 AS answer`),
        { text: "SELECT $1::text AS echo, NULL::int AS nothing", values: ["it's"] },
        "COMMIT",
      ]);
      expect(rows).toEqual([[], [{ answer: 42 }], [{ echo: "it's", nothing: null }], []]);
      // One Sync for the four: Postgres said it was ready once, not after each statement.
      expect(answers).toBe(1);
    } finally {
      connection.removeListener("readyForQuery", count);
      client.release();
    }
  });

  it("a failing statement fails the call, skips the rest (its COMMIT too), and leaves the transaction to roll back", async () => {
    const client = await app.pool.connect();
    try {
      await client.query("CREATE TEMP TABLE pp_together (n int)");
      const before = { text: "INSERT INTO pp_together VALUES ($1::int + 100)", values: [1] };
      const after = { text: "SELECT $1::int + 200 AS after_fail", values: [1] };
      await expect(
        sendTogether(client, [
          "BEGIN",
          before,
          { text: "SELECT 1 / $1::int", values: [0] },
          after,
          "INSERT INTO pp_together VALUES (7)",
          "COMMIT",
        ]),
      ).rejects.toThrow(/division by zero/);
      await expect(client.query("SELECT 1")).rejects.toThrow(/current transaction is aborted/);
      await client.query("ROLLBACK");
      expect((await client.query("SELECT count(*)::int AS n FROM pp_together")).rows).toEqual([{ n: 0 }]);
      // The text prepared before the failure is reused, the one skipped after it is prepared now.
      const again = await sendTogether(client, ["BEGIN", before, after, "COMMIT"]);
      expect(again).toEqual([[], [], [{ after_fail: 201 }], []]);
      expect((await client.query("SELECT n FROM pp_together")).rows).toEqual([{ n: 101 }]);
    } finally {
      await client.query("DROP TABLE IF EXISTS pp_together");
      client.release();
    }
  });
  it("keeps count of what a timed-out call prepared, so the text works again on that connection", async () => {
    // A read timeout fails the call before Postgres answers; its answers still come afterwards.
    const timed = createDatabase(`${database.url}?query_timeout=300`, { max: 1 });
    const fresh = { text: "SELECT $1::int + 2 AS after_timeout", values: [1] };
    const client = await timed.pool.connect();
    try {
      await expect(
        sendTogether(client, [
          "BEGIN",
          fresh,
          { text: "SELECT pg_sleep($1::float8)", values: [0.6] },
          "COMMIT",
        ]),
      ).rejects.toThrow(/timeout/i);
      // Postgres answers once the sleep is over; a query sent before then would time out too.
      await new Promise((r) => setTimeout(r, 800));
      await client.query("ROLLBACK");
      expect(await sendTogether(client, [fresh])).toEqual([[{ after_timeout: 3 }]]);
      expect((await client.query("SELECT $1::int + 2 AS after_timeout", [5])).rows).toEqual([
        { after_timeout: 7 },
      ]);
    } finally {
      client.release();
      await timed.close();
    }
  });

  it("refuses COPY, which cannot travel with other statements, before sending anything", async () => {
    const client = await app.pool.connect();
    try {
      await expect(sendTogether(client, ["BEGIN", "COPY pg_class FROM STDIN", "COMMIT"])).rejects.toThrow(
        /COPY cannot be sent together/,
      );
      expect((await client.query("SELECT $1::int AS still", [1])).rows).toEqual([{ still: 1 }]);
      expect(client.getTransactionStatus?.() ?? "I").toBe("I");
    } finally {
      client.release();
    }
  });
});

describe("setList: a SET list written from a table's columns", () => {
  const notes = pgTable("pp_setlist_notes", {
    id: serial("id").primaryKey(),
    note: text("note"),
    tags: jsonb("tags").$type<string[]>(),
    seenAt: timestamp("seen_at", { withTimezone: true }),
  });

  it("converts each value as its column does, leaves out undefined, and writes null", async () => {
    // A temporary table on the pool's one connection: the application's role creates no tables.
    await app.pool.query(
      "CREATE TEMP TABLE pp_setlist_notes (id serial PRIMARY KEY, note text, tags jsonb, seen_at timestamptz)",
    );
    const inserted = await app.pool.query("INSERT INTO pp_setlist_notes (note) VALUES ('kept') RETURNING id");
    const id = inserted.rows[0].id as number;
    const values: unknown[] = [];
    const set = setList(
      notes,
      { tags: ["a", "b"], seenAt: new Date("2026-11-25T10:00:00Z"), note: undefined },
      values,
    );
    expect(set).toBe('"tags" = $1, "seen_at" = $2');
    values.push(id);
    await app.pool.query(`UPDATE pp_setlist_notes SET ${set} WHERE id = $3`, values);
    const row = (await app.db.select().from(notes)).at(0);
    expect(row).toEqual({ id, note: "kept", tags: ["a", "b"], seenAt: new Date("2026-11-25T10:00:00Z") });

    const cleared: unknown[] = [];
    const clear = setList(notes, { note: null }, cleared);
    await app.pool.query(`UPDATE pp_setlist_notes SET ${clear} WHERE id = $2`, [...cleared, id]);
    expect((await app.db.select().from(notes)).at(0)?.note).toBeNull();
  });

  it("writes columns in the table's order, leaves out the omitted ones, and refuses what it cannot write", () => {
    const values: unknown[] = [];
    expect(setList(notes, { seenAt: null, note: "n", id: 4 }, values, ["id"])).toBe(
      '"note" = $1, "seen_at" = $2',
    );
    expect(values).toEqual(["n", null]);
    expect(() => setList(notes, { color: "red" }, [])).toThrow(/pp_setlist_notes has no column color/);
    expect(() => setList(notes, { note: sql`upper(note)` }, [])).toThrow(/given an SQL expression/);
  });
});
