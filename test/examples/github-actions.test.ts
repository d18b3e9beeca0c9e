import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const INPUTS = ["rollout_id", "stage", "image", "digest", "dispatch_id"];
const dir = new URL("../../examples/github-actions/", import.meta.url);

describe.each(["build.yml", "deploy.yml", "rollback.yml"])("examples/github-actions/%s", (file) => {
  const workflow = parse(readFileSync(new URL(file, dir), "utf8")) as {
    on?: { workflow_dispatch?: { inputs?: Record<string, { type?: string }> } };
    "run-name"?: string;
  };

  it("can be dispatched by patchpilot with its five string inputs", () => {
    const inputs = workflow.on?.workflow_dispatch?.inputs ?? {};
    expect(Object.keys(inputs).sort()).toEqual([...INPUTS].sort());
    for (const name of INPUTS) expect(inputs[name]?.type, name).toBe("string");
  });

  it("puts the dispatch id in its run-name so patchpilot can find the run", () => {
    expect(workflow["run-name"]).toMatch(/\$\{\{\s*inputs\.dispatch_id\s*\}\}/);
  });
});
