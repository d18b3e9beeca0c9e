import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditCommand } from "../../src/cli/audit-command.js";
import { GENESIS_HASH } from "../../src/core/audit/hash-audit-event.js";
import { appendAuditEvent } from "../../src/db/audit-repository.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

let database: TestDatabase;
let owner: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  owner = createDatabase(database.url, { appRole: false, max: 1 });
});
afterAll(async () => {
  await owner?.close();
  await database?.drop();
});

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await auditCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s) }, database.url);
  // The real io prints each string followed by a newline.
  return { code, out: out.map((s) => `${s}\n`).join(""), err: err.join("\n") };
}

async function seed(events: number) {
  const app = createDatabase(database.url, { max: 1 });
  try {
    for (let n = 1; n <= events; n++) {
      await app.db.transaction((tx) =>
        appendAuditEvent(tx, {
          at: new Date(Date.UTC(2025, 0, n, 12)),
          actor: { id: `U${n}`, name: n === 2 ? 'Grace "Amazing", Hopper' : `user ${n}` },
          action: "rollout.approve",
          outcome: "ok",
          origin: { source: "cli" },
          resource: { image: "ghcr.io/acme/api", stage: "prod" },
          payload: { note: `line one\nline "two", ${n}` },
        }),
      );
    }
  } finally {
    await app.close();
  }
}

describe("patchpilot audit", () => {
  it("verifies an empty trail", async () => {
    expect(await run("verify")).toEqual({
      code: 0,
      out: `audit trail OK: 0 events, head seq 0 hash ${GENESIS_HASH}\n`,
      err: "",
    });
  });

  it("verifies an intact trail and prints its head", async () => {
    await seed(5);
    const { rows } = await owner.pool.query("SELECT hash FROM audit_events WHERE seq = 5");
    const r = await run("verify");
    expect(r).toMatchObject({ code: 0, out: `audit trail OK: 5 events, head seq 5 hash ${rows[0].hash}\n` });
  });

  it("exports jsonl ending with the chain head, which verify --head then accepts", async () => {
    const r = await run("export");
    expect(r.code).toBe(0);
    const lines = r.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines.map((l) => l.seq).slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    const head = lines.at(-1).chainHead;
    expect(head).toEqual({ seq: 5, hash: lines[4].hash });
    expect(r.err).toContain("exported 5 event(s)");
    expect(await run("verify", "--head", `${head.seq}:${head.hash.toUpperCase()}`)).toMatchObject({
      code: 0,
    });
  });

  it("exports CSV between --from and --to", async () => {
    const r = await run(
      "export",
      "--format",
      "csv",
      "--from",
      "2025-01-02",
      "--to",
      "2025-01-04T00:00:00+00:00",
    );
    expect(r.code).toBe(0);
    const head = (await run("verify")).out.match(/head seq (\d+) hash (\w+)/);
    expect(
      r.out.startsWith("seq,at,actor_id,actor_name,action,outcome,origin,resource,payload,prev_hash,hash\n"),
    ).toBe(true);
    expect(r.out.endsWith(`# chain-head,${head?.[1]},${head?.[2]}\n`)).toBe(true);
    expect(r.out).toContain('2,2025-01-02T12:00:00.000Z,U2,"Grace ""Amazing"", Hopper",rollout.approve,ok,');
    expect(r.out).toContain('"{""note"":""line one\\nline \\""two\\"", 2""}"');
    expect(r.out.match(/^\d+,2025-/gm)).toEqual(["2,2025-", "3,2025-"]);
  });

  it("names the first bad row of a tampered trail and exits 1", async () => {
    await owner.pool.query("ALTER TABLE audit_events DISABLE TRIGGER USER");
    await owner.pool.query("UPDATE audit_events SET outcome = 'denied' WHERE seq = 3");
    try {
      expect(await run("verify")).toEqual({
        code: 1,
        out: "audit trail BROKEN at seq 3: its contents do not match its hash (the row was modified)\n",
        err: "",
      });
    } finally {
      await owner.pool.query("UPDATE audit_events SET outcome = 'ok' WHERE seq = 3");
    }
    expect((await run("verify")).code).toBe(0);
  });

  it("catches a truncated tail only when given the exported head", async () => {
    const exported = (await run("export")).out.trimEnd().split("\n").at(-1) ?? "";
    const { seq, hash } = JSON.parse(exported).chainHead;
    await owner.pool.query("DELETE FROM audit_events WHERE seq >= 4");
    expect((await run("verify")).out).toMatch(/^audit trail OK: 3 events/);
    expect(await run("verify", "--head", `${seq}:${hash}`)).toEqual({
      code: 1,
      out: "audit trail BROKEN at seq 4: the trail ends at seq 3 but the expected head is seq 5: seqs 4–5 were removed\n",
      err: "",
    });
  });

  it.each([
    [[], /needs a subcommand/],
    [["frobnicate"], /unknown audit subcommand "frobnicate"/],
    [["verify", "--head", "12"], /--head must be SEQ:HASH/],
    [["verify", "--head"], /argument missing/i],
    [["verify", "--bogus"], /Unknown option '--bogus'/],
    [["verify", "extra"], /Unexpected argument 'extra'/],
    [["export", "--format", "xml"], /--format must be jsonl or csv, not "xml"/],
    [["export", "--from", "yesterday"], /--from must be an ISO 8601 date/],
    [["export", "--to", "2025-01-31T09:00:00"], /--to must be an ISO 8601 date or date-time with a zone/],
    [["export", "--from", "2025-02-30"], /--from must be an ISO 8601 date/],
    [["export", "--from", "2025-02-01", "--to", "2025-01-01"], /--from must be before --to/],
  ])("refuses %j with usage and exit code 2", async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(message);
    expect(r.err).toContain("Usage:\n  patchpilot audit verify");
  });

  it("prints usage for help", async () => {
    const r = await run("--help");
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain("patchpilot audit export");
  });

  it("reports an unreachable database in one line, without a stack trace or the password", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await auditCommand(
      ["verify"],
      { out: (s) => out.push(s), err: (s) => err.push(s) },
      "postgres://auditor:s3cret-pw@127.0.0.1:1/nowhere",
    );
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^audit verify failed: cannot reach the database .*Check DATABASE_URL/);
    expect(err[0]).not.toContain("s3cret-pw");
    expect(err[0]).not.toMatch(/\n\s+at /);
  });
});
