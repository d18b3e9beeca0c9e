import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../src/db/client.js";
import { insertIntent, performIntent } from "../../src/db/outbox-repository.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

/**
 * `performIntent` defers an intent that is not due, so a delivery needs
 * no read before its transaction: an intent whose aggregation window is still open is let go
 * with no effect and no attempt spent, and says when it is due by the database's clock; a due
 * one is performed once under its row lock.
 */
let database: TestDatabase;
let app: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 3 });
}, 30_000);
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

async function rowOf(id: number) {
  const r = await app.pool.query<{ status: string; attempts: number; result: unknown }>(
    "SELECT status, attempts, result FROM outbox WHERE id = $1",
    [id],
  );
  return r.rows[0];
}

describe("performIntent", () => {
  it("lets a not-yet-due intent go untouched and says how long until it is due", async () => {
    const dbNow = (await app.pool.query<{ now: Date }>("SELECT now() AS now")).rows[0]?.now ?? new Date();
    const id = await insertIntent(app.db, {
      kind: "test.effect",
      dedupeKey: "perform:later",
      payload: {},
      availableAt: new Date(dbNow.getTime() + 60_000),
    });
    let effects = 0;
    const outcome = await performIntent(app.db, id, async () => {
      effects++;
      return {};
    });
    expect(typeof outcome === "object" ? outcome.dueInMs : outcome).toBeGreaterThan(55_000);
    expect(effects).toBe(0);
    expect(await rowOf(id)).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("performs a due intent once, marks it done with the effect's result, then skips it", async () => {
    const id = await insertIntent(app.db, {
      kind: "test.effect",
      dedupeKey: "perform:now",
      payload: { n: 1 },
    });
    const seen: unknown[] = [];
    const effect = async (row: { payload: unknown }) => {
      seen.push(row.payload);
      return { sent: true };
    };
    expect(await performIntent(app.db, id, effect)).toBe("done");
    expect(await performIntent(app.db, id, effect)).toBe("skipped");
    expect(seen).toEqual([{ n: 1 }]);
    expect(await rowOf(id)).toMatchObject({ status: "done", attempts: 1, result: { sent: true } });
  });
});
