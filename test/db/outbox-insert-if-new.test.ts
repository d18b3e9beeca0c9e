import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../src/db/client.js";
import { insertIntentsIfNew } from "../../src/db/outbox-repository.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

// A scheduled digest records its period's run and its messages in one statement: the messages
// only when the run is new, so a second worker or a retry of the same period records nothing.
let database: TestDatabase;
let app: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 2, appRole: false });
  await app.pool.query("CREATE TABLE guard_rows (k text PRIMARY KEY)");
}, 30_000);
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const guard = (k: string) => sql`INSERT INTO guard_rows (k) VALUES (${k}) ON CONFLICT DO NOTHING RETURNING k`;
const intents = (tag: string) =>
  ["main", "thread:0", "thread:1"].map((part, i) => ({
    kind: "slack.post",
    dedupeKey: `${tag}:${part}`,
    payload: { key: `${tag}:${part}`, text: `it's part ${i}`, blocks: [{ type: "divider" }] },
  }));

describe("insertIntentsIfNew", () => {
  it("records the intents in the order given when the guard's row is new, and nothing when it was there", async () => {
    const ids = await insertIntentsIfNew(app.db, guard("period-1"), intents("digest-1"));
    expect(ids).toHaveLength(3);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const rows = await app.pool.query<{ id: string; dedupe_key: string; status: string; payload: unknown }>(
      "SELECT id, dedupe_key, status, payload FROM outbox WHERE dedupe_key LIKE 'digest-1:%' ORDER BY id",
    );
    expect(rows.rows.map((r) => [Number(r.id), r.dedupe_key, r.status])).toEqual([
      [ids[0], "digest-1:main", "pending"],
      [ids[1], "digest-1:thread:0", "pending"],
      [ids[2], "digest-1:thread:1", "pending"],
    ]);
    expect(rows.rows[1]?.payload).toEqual(intents("digest-1")[1]?.payload);

    // The same period again (another worker, a retry): no intents, the first ones untouched.
    expect(await insertIntentsIfNew(app.db, guard("period-1"), intents("digest-1b"))).toEqual([]);
    const again = await app.pool.query("SELECT 1 FROM outbox WHERE dedupe_key LIKE 'digest-1b:%'");
    expect(again.rowCount).toBe(0);
  });
});
