import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFileSchema, type PatchpilotConfig } from "../../src/config/file-schema.js";
import { PatchpilotError } from "../../src/core/errors.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { appendAuditEvent } from "../../src/db/audit-repository.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { auditEvents, runtimeFreezes } from "../../src/db/schema/index.js";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import type { SlackMessage } from "../../src/render/slack-message.js";
import type { RolloutDeps } from "../../src/services/rollouts/rollout-deps.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { auditCommand } from "../../src/slack/commands/audit.js";
import { freezeCommand } from "../../src/slack/commands/freeze.js";
import { rollbackCommand } from "../../src/slack/commands/rollback.js";
import { rolloutCommand } from "../../src/slack/commands/rollout.js";
import type { CommandContext } from "../../src/slack/commands/subcommand.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

const config: PatchpilotConfig = configFileSchema.parse({
  version: 1,
  teams: [{ id: "payments", channel: "C0PAYMENTS", approvers: { users: ["U0LEAD", "U0MARIA"] } }],
  images: [
    {
      id: "payments-api",
      repository: "ghcr.io/acme/payments-api",
      team: "payments",
      github: {
        repo: "acme/payments-api",
        workflows: { build: "build.yml", deploy: "deploy.yml", rollback: "rb.yml" },
      },
    },
    {
      id: "ledger",
      repository: "ghcr.io/acme/ledger",
      team: "payments",
      github: { repo: "acme/ledger", workflows: { build: "build.yml", deploy: "deploy.yml" } },
    },
  ],
  defaultStages: ["rebuild", "staging", "production"],
  stages: { rebuild: { approvals: 0 }, staging: {}, production: { environment: "prod" } },
});

let database: TestDatabase;
let app: Database;
let rollouts: RolloutDeps;
const clock = new Date("2026-11-24T10:00:00Z");
const now = () => clock;

const ctx = (args: string[], userId = "U0MARIA"): CommandContext => ({
  userId,
  userName: userId === "U0MARIA" ? "maria" : "lead",
  channelId: "C0PAYMENTS",
  teamId: "T0ACME",
  triggerId: "trigger",
  args,
});
/** Every `text` string in the blocks (sections, headers and context lines), in order. */
const texts = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.flatMap(texts)
    : typeof v === "object" && v !== null
      ? Object.entries(v).flatMap(([k, x]) => (k === "text" && typeof x === "string" ? [x] : texts(x)))
      : [];
const textOf = (m: SlackMessage) => texts(m.blocks).join("\n");

async function userErrorOf(p: Promise<unknown>): Promise<PatchpilotError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!(e instanceof PatchpilotError) || e.kind !== "user")
    throw new Error(`expected a user error, got ${String(e)}`);
  return e;
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  await syncConfig(app.db, config, (r) => normalizeImageRef(r).repository);
  rollouts = {
    db: app.db,
    config,
    now,
    membership: { members: async () => new Set<string>(), groupsOf: async () => [] },
    afterCommit: async () => {},
  };
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("/patch rollout", () => {
  const rollout = () => rolloutCommand({ rollouts });
  let started = 0;

  it("starts a rollout, and a second start says which rollout is already in progress", async () => {
    const first = await rollout().run(ctx(["payments-api", "--reason", "CVE-2026-1234 in openssl"]));
    expect(first.response_type).toBe("ephemeral");
    const match = /Rollout #(\d+) of payments-api started/.exec(textOf(first));
    expect(match).not.toBeNull();
    started = Number(match?.[1]);

    const second = await rollout().run(ctx(["payments-api"]));
    expect(textOf(second)).toMatch(/^:no_entry_sign: /);
    expect(textOf(second)).toContain(`Rollout #${started} of payments-api is already in progress`);
    expect(second.text).not.toContain(":no_entry_sign:");
  });

  it("suggests the closest image id for an unknown one", async () => {
    const reply = await rollout().run(ctx(["payments-apx"]));
    expect(textOf(reply)).toContain('No configured image "payments-apx"');
    expect(textOf(reply)).toContain("`payments-api`");
  });

  it("asks for the image with an example when none is given", async () => {
    const e = await userErrorOf(rollout().run(ctx(["--reason", "why"])));
    expect(e.message).toContain("/patch rollout payments-api");
  });

  it("records who asked and why in the rollout's audit history", async () => {
    const reply = await auditCommand({ db: app.db }).run(ctx([`#${started}`]));
    const text = textOf(reply);
    expect(reply.response_type).toBe("ephemeral");
    expect(text).toContain(`Rollout #${started} · payments-api · active`);
    expect(text).toMatch(/<@U0MARIA> · requested the rollout \(manual\).*CVE-2026-1234 in openssl/);
    expect(text).toContain("verify with `patchpilot audit verify`");
    expect(checkBlockKitLimits(reply, "message")).toEqual([]);
  });
});

describe("/patch rollback", () => {
  it("refuses to roll back a rollout that deployed nothing, and says to cancel instead", async () => {
    const started = await rolloutCommand({ rollouts }).run(ctx(["ledger"]));
    const id = /#(\d+)/.exec(textOf(started))?.[1];
    const reply = await rollbackCommand({ rollouts }).run(ctx([`#${id}`, "--reason", "bad"], "U0LEAD"));
    expect(textOf(reply)).toMatch(/^:no_entry_sign: Nothing of this rollout has been deployed yet/);
    expect(textOf(reply)).toContain("cancel it instead");
    expect(reply.response_type).toBe("ephemeral");
  });

  it("says there is no such rollout for an unknown number, and asks for a number otherwise", async () => {
    const reply = await rollbackCommand({ rollouts }).run(ctx(["9999"]));
    expect(textOf(reply)).toContain("No rollout #9999.");
    const e = await userErrorOf(rollbackCommand({ rollouts }).run(ctx(["payments-api"])));
    expect(e.message).toContain("/patch rollback 218");
  });
});

describe("/patch freeze", () => {
  const freeze = () => freezeCommand({ db: app.db, config, now });

  it("freezes and lifts an environment, posted in the channel and recorded in the audit trail", async () => {
    const on = await freeze().run(ctx(["prod", "on", "--reason", "incident <!channel> INC-42"]));
    expect(on.response_type).toBe("in_channel");
    expect(textOf(on)).toContain("prod frozen");
    // The reason is the user's text, shown to the whole channel: it must not ping anyone.
    expect(textOf(on)).not.toContain("<!channel>");
    const active = await app.db.select().from(runtimeFreezes).where(eq(runtimeFreezes.environment, "prod"));
    expect(active).toMatchObject([
      { reason: "incident <!channel> INC-42", startedBy: "U0MARIA", endedAt: null },
    ]);

    const again = await freeze().run(ctx(["prod", "on", "--reason", "again"]));
    expect(again.response_type).toBe("ephemeral");
    expect(textOf(again)).toContain("prod is already frozen");

    const off = await freeze().run(ctx(["prod", "off"]));
    expect(off.response_type).toBe("in_channel");
    expect(textOf(off)).toContain("Freeze on prod lifted");
    const [row] = await app.db.select().from(runtimeFreezes).where(eq(runtimeFreezes.environment, "prod"));
    expect(row?.endedBy).toBe("U0MARIA");

    const trail = await app.db.select().from(auditEvents);
    const freezes = trail.filter((e) => e.action.startsWith("freeze."));
    expect(freezes.map((e) => [e.action, (e.payload as { reason: string }).reason])).toEqual([
      ["freeze.started", "incident <!channel> INC-42"],
      ["freeze.lifted", "lifted from Slack"],
    ]);
  });

  it("needs a reason to freeze", async () => {
    const e = await userErrorOf(freeze().run(ctx(["staging", "on"])));
    expect(e.message).toContain("needs a reason");
    expect(e.message).toContain('/patch freeze staging on --reason "');
  });

  it("lists the known environments for an unknown one", async () => {
    const e = await userErrorOf(freeze().run(ctx(["production", "on", "--reason", "x"])));
    expect(e.message).toContain("`production` is not an environment");
    expect(e.message).toContain("`prod`, `staging`, `all`");
  });
});

describe("/patch audit", () => {
  it("keeps a 300-event history within Block Kit limits, with its start and a pointer to the export", async () => {
    const started = await rolloutCommand({ rollouts }).run(ctx(["payments-api"], "U0LEAD"));
    // payments-api already has an open rollout: audit that one.
    const id = Number(/#(\d+)/.exec(textOf(started))?.[1]);
    await app.db.transaction(async (tx) => {
      for (let i = 0; i < 300; i++) {
        await appendAuditEvent(tx, {
          at: new Date(clock.getTime() + i * 60_000),
          actor: { id: "U0LEAD", name: "lead" },
          action: i % 2 === 0 ? "stage.approve" : "stage.approved",
          outcome: i % 2 === 0 ? "denied" : "ok",
          origin: { source: "slack" },
          resource: { rollout: id, image: "ghcr.io/acme/payments-api", digest: null, stage: "staging" },
          payload: i % 2 === 0 ? { message: `four-eyes: you started this rollout ${"x".repeat(100)}` } : {},
        });
      }
    });
    const reply = await auditCommand({ db: app.db }).run(ctx([String(id), "--share"]));
    expect(checkBlockKitLimits(reply, "message")).toEqual([]);
    expect(reply.response_type).toBe("in_channel");
    const text = textOf(reply);
    expect(text).toContain("requested the rollout");
    expect(text).toContain("denied: four-eyes: you started this rollout");
    expect(text).toMatch(/… \d+ more; `patchpilot audit export` has all/);
  });

  it("says there is no such rollout for an unknown number", async () => {
    const reply = await auditCommand({ db: app.db }).run(ctx(["#4242"]));
    expect(textOf(reply)).toContain("No rollout #4242.");
  });
});
