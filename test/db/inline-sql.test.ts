import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inlineSql, withLiterals } from "../../src/db/inline-sql.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

describe("statements with their values written in as literals", () => {
  it("give Postgres the same values as parameters do, for any text, list, number, date and JSON", async () => {
    const text = fc.string({ unit: "grapheme" }).filter((s) => !s.includes("\u0000"));
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.array(fc.option(text), { maxLength: 4 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(Date.UTC(9999, 0)) }),
        fc.jsonValue({ maxDepth: 2 }).filter((v) => !JSON.stringify(v).includes("\\u0000")),
        fc.boolean(),
        async (s, list, n, at, json, flag) => {
          const statement = sql`SELECT ${s}::text AS s, ${sql.param(list)}::text[] AS list, ${n}::float8 AS n,
            ${at}::timestamptz AS at, ${JSON.stringify(json)}::jsonb AS json, ${flag}::boolean AS flag,
            ${null}::text AS nothing, '$1 stays' AS quoted`;
          const inlined = await client.query(inlineSql(statement));
          const { sql: text, params } = new PgDialect().sqlToQuery(statement);
          const expected = await client.query(text, params);
          expect(inlined.rows).toEqual(expected.rows);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("leaves `$n` inside quoted text and identifiers alone, and refuses dollar-quoting", () => {
    expect(withLiterals(`SELECT 'it''s $1', "col$1", $2, $10`, ["a", "b's", 3, 4, 5, 6, 7, 8, 9, 10])).toBe(
      `SELECT 'it''s $1', "col$1", 'b''s', '10'`,
    );
    expect(() => withLiterals("SELECT $$x$$", [])).toThrow(/dollar-quoted/);
    // A quote in a comment or an E'' string would put a value outside its quotes.
    expect(() => withLiterals("SELECT $1 -- it's\n, 'cost: $1'", ["x"])).toThrow(/comments/);
    expect(() => withLiterals("SELECT /* it's */ $1", ["x"])).toThrow(/comments/);
    expect(() => withLiterals("SELECT E'it\\'s', $1", ["x"])).toThrow(/E'…' strings/);
    expect(withLiterals("SELECT 'e', name'x' FROM t WHERE a = $1", ["y"])).toBe(
      "SELECT 'e', name'x' FROM t WHERE a = 'y'",
    );
    expect(() => withLiterals("SELECT $2", ["only one"])).toThrow(/no value for \$2/);
  });
});
