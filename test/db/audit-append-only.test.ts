import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../src/db/client.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

let database: TestDatabase;
let app: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 1 });
  await app.pool.query(
    `INSERT INTO audit_events (seq, at, actor_id, action, outcome, origin, resource, payload, prev_hash, hash)
     VALUES (1, now(), 'system', 'test.append', 'ok', '{}', '{}', '{}', '', 'h1')`,
  );
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("the audit trail is append-only for the application (QUALITY.md scenario 13)", () => {
  it("connects as the restricted application role", async () => {
    const r = await app.pool.query("SELECT current_user AS u");
    expect(r.rows[0]).toEqual({ u: "patchpilot_app" });
  });

  it("may read and append", async () => {
    await app.pool.query(
      `INSERT INTO audit_events (seq, at, actor_id, action, outcome, origin, resource, payload, prev_hash, hash)
       VALUES (2, now(), 'system', 'test.append', 'ok', '{}', '{}', '{}', 'h1', 'h2')`,
    );
    const r = await app.pool.query("SELECT count(*)::int AS n FROM audit_events");
    expect(r.rows[0]).toEqual({ n: 2 });
  });

  it.each([
    ["UPDATE", "UPDATE audit_events SET outcome = 'denied' WHERE seq = 1"],
    ["DELETE", "DELETE FROM audit_events WHERE seq = 1"],
    ["TRUNCATE", "TRUNCATE audit_events"],
  ])("refuses %s", async (_op, statement) => {
    await expect(app.pool.query(statement)).rejects.toThrow(/permission denied|append-only/);
    const r = await app.pool.query("SELECT outcome FROM audit_events WHERE seq = 1");
    expect(r.rows[0]).toEqual({ outcome: "ok" });
  });

  it("refuses UPDATE even to the table's owner while the guard trigger is on", async () => {
    const owner = createDatabase(database.url, { appRole: false, max: 1 });
    try {
      await expect(owner.pool.query("UPDATE audit_events SET outcome = 'x'")).rejects.toThrow(/append-only/);
    } finally {
      await owner.close();
    }
  });
});
