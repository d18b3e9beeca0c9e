import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../src/db/client.js";
import { insertIntents, recordIntentFailure } from "../../src/db/outbox-repository.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

// A decision's intents are one statement; a dedupe key already recorded (a Home refresh coalesced
// with another team change in its window) gives that intent's id.
let database: TestDatabase;
let app: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4, appRole: false });
}, 30_000);
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const intent = (key: string, n = 0) => ({
  kind: "home.refresh",
  dedupeKey: key,
  payload: { teamId: `t${n}` },
});

describe("insertIntents", () => {
  it("returns ids in the order given: new ones, ones recorded before, and a key given twice once", async () => {
    const [before] = await insertIntents(app.db, [intent("k:old", 1)]);
    const ids = await insertIntents(app.db, [intent("k:new"), intent("k:old", 2), intent("k:new", 3)]);
    expect(ids[1]).toBe(before);
    expect(ids[0]).toBe(ids[2]);
    expect(ids[0]).not.toBe(before);
    const rows = await app.pool.query("SELECT dedupe_key, payload FROM outbox ORDER BY id");
    // The first intent of each key is kept as recorded.
    expect(rows.rows).toEqual([
      { dedupe_key: "k:old", payload: { teamId: "t1" } },
      { dedupe_key: "k:new", payload: { teamId: "t0" } },
    ]);
  });

  it("finds an intent another transaction committed while this insert waited on it", async () => {
    const other = await app.pool.connect();
    try {
      await other.query("BEGIN");
      const mine = await other.query<{ id: string }>(
        "INSERT INTO outbox (kind, dedupe_key, payload) VALUES ('home.refresh', 'k:race', '{}') RETURNING id",
      );
      // Waits on the uncommitted row's key, then finds it committed: not in its own snapshot.
      const waiting = insertIntents(app.db, [intent("k:race")]);
      await new Promise((r) => setTimeout(r, 200));
      await other.query("COMMIT");
      expect(await waiting).toEqual([Number(mine.rows[0]?.id)]);
    } finally {
      other.release();
    }
  });
});

describe("recordIntentFailure", () => {
  it("fails an intent once its tries, counted on the intent, reach the limit, and puts it back until then", async () => {
    const [id = 0] = await insertIntents(app.db, [intent("k:outage")]);
    const row = async () =>
      (
        await app.pool.query<{ status: string; attempts: number; later: boolean }>(
          "SELECT status, attempts, available_at > now() + interval '30 seconds' AS later FROM outbox WHERE id = $1",
          [id],
        )
      ).rows[0];
    expect(
      await recordIntentFailure(app.db, id, "503", false, { failAtAttempts: 2, retryInMs: 60_000 }),
    ).toEqual({
      failed: false,
    });
    expect(await row()).toEqual({ status: "pending", attempts: 1, later: true });
    expect(await recordIntentFailure(app.db, id, "503", false, { failAtAttempts: 2 })).toEqual({
      failed: true,
    });
    expect(await row()).toMatchObject({ status: "failed", attempts: 2 });
    // A failed intent is not touched again.
    expect(await recordIntentFailure(app.db, id, "503", false, { failAtAttempts: 2 })).toEqual({
      failed: false,
    });
    expect(await row()).toMatchObject({ attempts: 2 });
  });
});
