import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { configJsonSchemaText } from "../../src/config/config-json-schema.js";
import { parseConfigText } from "../../src/config/load-config-file.js";

const example = await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8");

function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s) }, {}).then((code) => ({
    code,
    out: out.join("\n"),
    err: err.join("\n"),
  }));
}

describe("patchpilot.yaml", () => {
  it("accepts the example file, with defaults filled in", () => {
    const r = parseConfigText(example);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.teams.map((t) => t.id)).toEqual(["payments", "search"]);
    expect(r.config.stages.production?.expiry).toBe("72h");
    expect(r.config.stages.staging?.fourEyes).toBe(true);
    expect(r.config.images[0]?.platform).toBe("linux/amd64");
  });

  it("reports every mistake with its path and the names that would have worked", () => {
    const broken = example
      .replace("team: search\n", "team: paymnts\n")
      .replace("window: patch-tuesday", "window: patch-wednesday")
      .replace("timezone: America/New_York", "timezone: America/Gotham");
    const r = parseConfigText(broken);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const lines = r.problems.map((p) => `${p.path}: ${p.message}`);
    expect(lines).toContain('images[2].team: unknown team "paymnts" (known: payments, search)');
    expect(lines).toContain(
      'stages.production.window: unknown window "patch-wednesday" (known: business-hours, patch-tuesday)',
    );
    expect(lines.some((l) => l.startsWith('digests[1].timezone: unknown time zone "America/Gotham"'))).toBe(
      true,
    );
    expect(lines).toHaveLength(3);
  });

  it.each([
    ["a bad duration", "expiry: 72h", "expiry: 3 days", "stages.production.expiry", "expected a duration"],
    [
      "a bad cron",
      'cron: "0 10 * * 2#2"',
      'cron: "61 10 * * 2"',
      "windows.patch-tuesday.cron",
      "invalid cron",
    ],
    [
      "a channel name instead of an id",
      "channel: C0SEARCH\n    approvers",
      "channel: '#search'\n    approvers",
      "teams[1].channel",
      "channel id",
    ],
    [
      "an unknown key",
      "  - id: search-api\n",
      "  - id: search-api\n    colour: red\n",
      "images[2]",
      'unknown key "colour"',
    ],
    ["a missing section value", "version: 1", "version: 2", "version", "expected version: 1"],
    [
      "an emergency lane no stricter than the stage's own approval",
      "emergency: { approvals: 3, requiredGroups: [S0SECURITY] }",
      "emergency: { approvals: 2, requiredGroups: [S0SECURITY] }",
      "stages.production.emergency",
      "must be stricter than the stage's own approval (2 approvals)",
    ],
  ])("explains %s", (_what, from, to, path, message) => {
    expect(example.includes(from)).toBe(true);
    const r = parseConfigText(example.replace(from, to));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.find((p) => p.path === path)?.message).toContain(message);
  });

  it("reports YAML syntax errors with a line number instead of throwing", () => {
    const r = parseConfigText("version: 1\nteams:\n  - id: a\n   channel: [");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]?.path).toMatch(/^line \d+$/);
  });

  it("publishes a JSON Schema that matches the zod schema", async () => {
    const published = await readFile(new URL("../../schema/patchpilot.schema.json", import.meta.url), "utf8");
    expect(published, "schema/patchpilot.schema.json is stale: run npm run schema").toBe(
      configJsonSchemaText(),
    );
  });
});

describe("patchpilot config check", () => {
  it("exits 0 with a one-line summary for a valid file", async () => {
    const r = await cli(["config", "check", "patchpilot.example.yaml"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^patchpilot\.example\.yaml: OK — 2 teams, 3 images, 4 stage policies/);
    expect(r.out.split("\n")).toHaveLength(1);
  });

  it("prints all three mistakes with their paths and exits 1", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const dir = await mkdtemp("/tmp/pp-config-");
    const file = `${dir}/bad.yaml`;
    await writeFile(
      file,
      example
        .replace("team: search\n", "team: paymnts\n")
        .replace("approvals: 2\n", "approvals: two\n")
        .replace("critical: 7\n", "critical: -1\n"),
    );
    const r = await cli(["config", "check", file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("3 problem(s)");
    expect(r.err).toContain('images[2].team: unknown team "paymnts"');
    expect(r.err).toContain("stages.production.approvals:");
    expect(r.err).toContain("sla.critical:");
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("names a missing file instead of a stack trace", async () => {
    const r = await cli(["config", "check", "/nonexistent/patchpilot.yaml"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("/nonexistent/patchpilot.yaml: cannot read the file (does it exist?)");
  });
});
