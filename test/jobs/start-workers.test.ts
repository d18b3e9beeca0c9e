import { describe, expect, it } from "vitest";
import { longestBackoffMs } from "../../src/jobs/start-workers.js";

describe("longestBackoffMs", () => {
  it("is the wait BullMQ puts before a job's last attempt", () => {
    // Exponential from 1 s over 8 attempts: waits of 1, 2, 4, … 64 s before attempts 2 to 8.
    expect(longestBackoffMs({ attempts: 8, backoff: { type: "exponential", delay: 1_000 } })).toBe(64_000);
    expect(longestBackoffMs({ attempts: 3, backoff: { type: "fixed", delay: 5_000 } })).toBe(5_000);
    expect(longestBackoffMs({ attempts: 3, backoff: 2_000 })).toBe(2_000);
  });

  it("waits at least a second and at most five minutes", () => {
    expect(longestBackoffMs({ attempts: 2, backoff: { type: "fixed", delay: 50 } })).toBe(1_000);
    expect(longestBackoffMs({ attempts: 1 })).toBe(1_000);
    expect(longestBackoffMs({ attempts: 20, backoff: { type: "exponential", delay: 1_000 } })).toBe(300_000);
  });
});
