import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { type ChannelGate, createChannelGate } from "../../src/adapters/channel-gate.js";
import { REDIS_TEST_URL } from "../support/databases.js";

const redis = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
afterAll(() => redis.disconnect());
const gateFor = () =>
  createChannelGate({ redis, prefix: `pp-test-gate-${randomBytes(4).toString("hex")}`, intervalMs: 300 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Asks until the gate lets `ticket` go, as a delivery job would; returns when it did. */
async function untilGranted(gate: ChannelGate, channel: string, ticket: string): Promise<number> {
  for (;;) {
    const wait = await gate.acquire(channel, ticket);
    if (wait === 0) return Date.now();
    await sleep(wait);
  }
}

describe("the per-channel gate", () => {
  it("spaces the next send from when the previous request came back, not from when it was let go", async () => {
    const gate = gateFor();
    expect(await gate.acquire("C1", "a")).toBe(0);
    // The request is slow: while it is out, nobody else is let go, however long it takes.
    await sleep(400);
    expect(await gate.acquire("C1", "b")).toBeGreaterThan(0);
    await gate.sent("C1");
    const sentAt = Date.now();
    expect((await untilGranted(gate, "C1", "b")) - sentAt).toBeGreaterThanOrEqual(290);
  });

  it("tells the process that sent on a channel when the next slot opens, and that slot is then granted at once", async () => {
    const gate = gateFor();
    expect(gate.readyIn("C1")).toBe(0);
    expect(await gate.acquire("C1", "a")).toBe(0);
    await gate.sent("C1");
    const ready = gate.readyIn("C1");
    expect(ready).toBeGreaterThan(250);
    expect(ready).toBeLessThanOrEqual(300);
    expect(gate.readyIn("C2")).toBe(0);
    await sleep(ready);
    // No reservation was needed: the slot is free when the process's own clock says it is.
    expect(await gate.acquire("C1", "b")).toBe(0);
    expect(gate.readyIn("C1")).toBe(0);
  });

  it("hands a slot taken ahead to that send's own acquire, once, and frees it if the send never came", async () => {
    const gate = gateFor();
    expect(await gate.takeAhead("C1", "a")).toBe(0);
    // The send deeper down asks with the same ticket and gets the slot taken for it.
    expect(await gate.acquire("C1", "a")).toBe(0);
    // Only once: the channel is busy until that send is reported.
    expect(await gate.acquire("C1", "a")).toBeGreaterThan(0);
    await gate.release("C1", "a"); // already used: nothing to hand back
    expect(await gate.acquire("C1", "b")).toBeGreaterThan(0);
    await gate.sent("C1");

    const other = gateFor();
    expect(await other.takeAhead("C2", "x")).toBe(0);
    expect(await other.acquire("C2", "y")).toBeGreaterThan(0);
    // The send never happened (already delivered elsewhere): handing the slot back frees the
    // channel, the next send a full interval later.
    await other.release("C2", "x");
    const released = Date.now();
    expect((await untilGranted(other, "C2", "y")) - released).toBeGreaterThanOrEqual(290);
  });

  it("after a 429 keeps the channel closed for Retry-After and gives the refused message the first slot", async () => {
    const gate = gateFor();
    expect(await gate.acquire("C1", "refused")).toBe(0);
    const retry = await gate.block("C1", 1_000, "refused");
    await gate.sent("C1");
    expect(retry).toBeGreaterThan(950);
    const other = await gate.acquire("C1", "other");
    expect(other).toBeGreaterThan(retry);
    await sleep(retry);
    expect(await gate.acquire("C1", "refused")).toBe(0);
  });

  it("makes a refused message wait for Retry-After only, not for the messages that were queued", async () => {
    const gate = gateFor();
    expect(await gate.acquire("C1", "refused")).toBe(0);
    // Four more messages wait their turns, up to 1.2 s ahead.
    for (const t of ["q1", "q2", "q3", "q4"]) expect(await gate.acquire("C1", t)).toBeGreaterThan(0);
    const retry = await gate.block("C1", 500, "refused");
    await gate.sent("C1");
    expect(retry).toBeGreaterThan(450);
    expect(retry).toBeLessThan(700);
    // A shorter Retry-After afterwards does not shorten the one in force.
    expect(await gate.block("C1", 100, "refused")).toBeGreaterThan(350);
  });

  it("keeps channels apart", async () => {
    const gate = gateFor();
    expect(await gate.acquire("C1", "a")).toBe(0);
    expect(await gate.acquire("C2", "b")).toBe(0);
  });
});
