import { describe, expect, it } from "vitest";
import { startedBefore } from "../../src/jobs/start-workers.js";

// A delivery looks for a Slack post it may have made before only when its job's earlier run may
// have been cut short (a retry, a worker killed mid-post), not when the job put itself back.
describe("startedBefore", () => {
  it("is false on a job's first run and after runs that only put the job back", () => {
    expect(startedBefore(1, 0)).toBe(false);
    expect(startedBefore(2, { deferrals: 1 })).toBe(false);
    expect(startedBefore(4, { deferrals: 3 })).toBe(false);
  });
  it("is true after a retry or a run that never ended (a worker that died)", () => {
    expect(startedBefore(2, 0)).toBe(true);
    expect(startedBefore(2, {})).toBe(true);
    expect(startedBefore(3, { deferrals: 1 })).toBe(true);
    // A progress that is not ours counts no deferrals: looking once too often is the safe side.
    expect(startedBefore(2, { deferrals: "x" })).toBe(true);
  });
});
