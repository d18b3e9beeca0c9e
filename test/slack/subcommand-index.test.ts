import { readdir, readFile } from "node:fs/promises";
import { WebClient } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { DEFAULT_SLA_POLICY } from "../../src/core/sla/sla-policy.js";
import { createDatabase } from "../../src/db/client.js";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { buildSubcommands as build } from "../../src/slack/commands/index.js";

// Building the commands touches nothing: the pool below never connects.
const example = parseConfigText(
  await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8"),
);
if (!example.ok) throw new Error("example config invalid");
const db = createDatabase("postgres://unused@127.0.0.1:1/none").db;
const buildSubcommands = () =>
  build({
    db,
    config: example.config,
    sla: DEFAULT_SLA_POLICY,
    teamsOfUser: async () => [],
    slack: new WebClient("xoxb-unused", { slackApiUrl: "http://127.0.0.1:1/api/" }),
    now: () => new Date(),
    onSubscriptionsChanged: async () => {},
    postDigestNow: async () => ({ posted: [] }),
    rollouts: {
      db,
      config: example.config,
      now: () => new Date(),
      membership: { members: async () => new Set(), groupsOf: async () => [] },
      afterCommit: async () => {},
    },
  });

const NOT_COMMANDS = new Set(["index.ts", "subcommand.ts", "README.md"]);

describe("the /patch subcommand index", () => {
  it("registers every file in src/slack/commands, and nothing else", async () => {
    const files = (await readdir(new URL("../../src/slack/commands", import.meta.url))).filter(
      (f) => !NOT_COMMANDS.has(f),
    );
    const registered = [...buildSubcommands().keys()];
    expect(registered.map((n) => `${n}.ts`).sort()).toEqual(files.sort());
  });

  it("gives every command usage, a summary and an example for help", async () => {
    for (const c of buildSubcommands().values()) {
      expect(c.usage.startsWith(`/patch ${c.name}`), c.name).toBe(true);
      expect(c.summary.length, c.name).toBeGreaterThan(10);
      expect(c.examples.length, c.name).toBeGreaterThan(0);
    }
  });

  it("renders help within Block Kit limits", async () => {
    const help = buildSubcommands().get("help");
    const reply = await help!.run({
      userId: "U1",
      userName: "u",
      channelId: "C1",
      teamId: "T1",
      triggerId: "t",
      args: [],
    });
    expect(checkBlockKitLimits(reply, "message")).toEqual([]);
  });
});
