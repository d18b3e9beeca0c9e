import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AuditEventInput, StoredAuditEvent } from "../../../src/core/audit/audit-event.js";
import { canonicalJson } from "../../../src/core/audit/canonical-json.js";
import { createChainVerifier } from "../../../src/core/audit/create-chain-verifier.js";
import { GENESIS_HASH } from "../../../src/core/audit/hash-audit-event.js";
import { verifyChain } from "../../../src/core/audit/verify-chain.js";
import { buildChain, sampleChain } from "./build-chain.js";

const chain = sampleChain(6);
const row = (seq: number) => chain[seq - 1]!;
const without = (...seqs: number[]) => chain.filter((r) => !seqs.includes(r.seq));
const replace = (seq: number, change: Partial<StoredAuditEvent>) =>
  chain.map((r) => (r.seq === seq ? { ...r, ...change } : r));
const swapContents = (a: number, b: number) =>
  chain.map((r) => {
    if (r.seq !== a && r.seq !== b) return r;
    const other = row(r.seq === a ? b : a);
    return { ...other, seq: r.seq, prevHash: r.prevHash, hash: r.hash };
  });

describe("verifyChain", () => {
  it("accepts an intact chain and names its head", () => {
    expect(verifyChain(chain)).toEqual({ ok: true, count: 6, head: { seq: 6, hash: row(6).hash } });
  });

  it("accepts an empty trail, whose head is null", () => {
    expect(verifyChain([])).toEqual({ ok: true, count: 0, head: null });
  });

  it.each<[string, StoredAuditEvent[], number, RegExp]>([
    ["a modified payload", replace(3, { payload: { n: 99 } }), 3, /do not match its hash/],
    ["a changed date", replace(4, { at: new Date(row(4).at.getTime() + 1) }), 4, /do not match its hash/],
    ["a changed outcome", replace(2, { outcome: "denied" }), 2, /do not match its hash/],
    ["a JSON column replaced by a non-object", replace(5, { resource: "x" }), 5, /do not match its hash/],
    ["a recomputed-looking hash", replace(2, { hash: "f".repeat(64) }), 2, /do not match its hash/],
    ["a relinked prev_hash", replace(3, { prevHash: row(1).hash }), 3, /prev_hash is not the hash of seq 2/],
    ["a first row not starting at genesis", replace(1, { prevHash: "1".repeat(64) }), 1, /genesis/],
    ["a deleted middle row", without(3), 3, /seq 3 is missing \(the next row is seq 4\)/],
    ["several deleted rows", without(2, 3, 4), 2, /seqs 2–4 are missing/],
    ["a deleted first row", without(1), 1, /seq 1 is missing/],
    ["two rows with swapped contents", swapContents(2, 5), 2, /do not match its hash/],
    ["two whole rows swapped", [row(1), row(3), row(2), ...without(1, 2, 3)], 2, /seq 2 is missing/],
    [
      "a row slipped in before seq 1",
      [{ ...row(1), seq: 0 }, ...chain],
      1,
      /found seq 0 where seq 1 should be/,
    ],
    ["a duplicated row", [row(1), row(2), row(2), ...without(1, 2)], 3, /found seq 2 where seq 3 should be/],
  ])("finds %s at the first bad seq", (_name, rows, firstBadSeq, reason) => {
    const verdict = verifyChain(rows);
    expect(verdict).toMatchObject({ ok: false, firstBadSeq });
    expect(verdict.ok ? "" : verdict.reason).toMatch(reason);
  });

  it("cannot see a truncated tail alone, but catches it against an exported head", () => {
    const head = { seq: 6, hash: row(6).hash };
    const truncated = without(5, 6);
    expect(verifyChain(truncated)).toMatchObject({ ok: true, count: 4 });
    const verdict = verifyChain(truncated, { expectedHead: head });
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(verdict.ok ? "" : verdict.reason).toMatch(
      /ends at seq 4 but the expected head is seq 6: seqs 5–6 were removed/,
    );
    expect(verifyChain([], { expectedHead: head })).toMatchObject({ ok: false, firstBadSeq: 1 });
  });

  it("catches a tail that was cut and then regrown with valid-looking rows", () => {
    const regrown = buildChain([...chain.slice(0, 4).map(toInput), toInput(row(6)), toInput(row(5))]);
    expect(verifyChain(regrown)).toMatchObject({ ok: true, count: 6 });
    expect(verifyChain(regrown, { expectedHead: { seq: 6, hash: row(6).hash } })).toMatchObject({
      ok: false,
      firstBadSeq: 6,
    });
  });

  it("accepts a longer chain whose row at the expected head still matches", () => {
    expect(verifyChain(chain, { expectedHead: { seq: 4, hash: row(4).hash } })).toMatchObject({
      ok: true,
      count: 6,
    });
    expect(verifyChain([], { expectedHead: { seq: 0, hash: GENESIS_HASH } })).toMatchObject({
      ok: true,
      count: 0,
    });
    expect(verifyChain(chain, { expectedHead: { seq: 0, hash: "1".repeat(64) } })).toMatchObject({
      ok: false,
      firstBadSeq: 0,
    });
  });

  it("refuses an expected head that is not a seq", () => {
    expect(() => createChainVerifier({ expectedHead: { seq: -1, hash: GENESIS_HASH } })).toThrow(RangeError);
  });

  it("stops at the first bad row when streaming and ignores the rest", () => {
    const verifier = createChainVerifier();
    const tampered = replace(2, { action: "rollout.reject" });
    expect(tampered.map((r) => verifier.push(r))).toEqual([true, false, false, false, false, false]);
    expect(verifier.finish()).toMatchObject({ ok: false, firstBadSeq: 2 });
  });
});

function toInput(r: StoredAuditEvent): AuditEventInput {
  const record = (v: unknown): Record<string, unknown> =>
    typeof v === "object" && v !== null ? { ...v } : {};
  return {
    at: r.at,
    actor: { id: r.actorId, name: r.actorName },
    action: r.action,
    outcome: r.outcome,
    origin: record(r.origin),
    resource: record(r.resource),
    payload: record(r.payload),
  };
}

const jsonObject = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const eventArb: fc.Arbitrary<AuditEventInput> = fc.record({
  at: fc.date({ noInvalidDate: true }),
  actor: fc.record({ id: fc.string(), name: fc.option(fc.string(), { nil: null }) }),
  action: fc.string(),
  outcome: fc.oneof(fc.constantFrom("ok", "denied", "refused", "failed"), fc.string()),
  origin: jsonObject,
  resource: jsonObject,
  payload: jsonObject,
});
const chainArb = fc.array(eventArb, { minLength: 1, maxLength: 12 }).map(buildChain);

type Mutation =
  | { field: "actorId" | "action" | "outcome" | "prevHash" | "hash"; value: string }
  | { field: "actorName"; value: string | null }
  | { field: "origin" | "resource" | "payload"; value: unknown }
  | { field: "at"; value: Date }
  | { field: "seq"; value: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    field: fc.constantFrom("actorId", "action", "outcome", "prevHash", "hash"),
    value: fc.string(),
  }),
  fc.record({ field: fc.constant("actorName"), value: fc.option(fc.string(), { nil: null }) }),
  fc.record({
    field: fc.constantFrom("origin", "resource", "payload"),
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({ field: fc.constant("at"), value: fc.date({ noInvalidDate: true }) }),
  fc.record({ field: fc.constant("seq"), value: fc.integer() }),
);

const comparable = (r: StoredAuditEvent) => canonicalJson({ ...r, at: r.at.toISOString() });

describe("verifyChain properties", () => {
  it("accepts every chain built by hashing events in order", () => {
    fc.assert(
      fc.property(chainArb, (rows) => {
        expect(verifyChain(rows)).toEqual({
          ok: true,
          count: rows.length,
          head: { seq: rows.length, hash: rows.at(-1)!.hash },
        });
      }),
    );
  });

  it("detects any single-field change of any row at exactly that row", () => {
    fc.assert(
      fc.property(chainArb, fc.nat(), mutationArb, (rows, pick, mutation) => {
        const i = pick % rows.length;
        const original = rows[i]!;
        const changed = { ...original, [mutation.field]: mutation.value };
        fc.pre(comparable(changed) !== comparable(original));
        const tampered = rows.map((r, j) => (j === i ? changed : r));
        expect(verifyChain(tampered)).toMatchObject({ ok: false, firstBadSeq: i + 1 });
      }),
      { numRuns: 500 },
    );
  });

  it("detects any deleted row except the last at exactly that seq", () => {
    fc.assert(
      fc.property(chainArb, fc.nat(), (rows, pick) => {
        fc.pre(rows.length > 1);
        const i = pick % (rows.length - 1);
        expect(verifyChain(rows.filter((_, j) => j !== i))).toMatchObject({ ok: false, firstBadSeq: i + 1 });
      }),
    );
  });

  it("detects a truncated tail of any length against the exported head", () => {
    fc.assert(
      fc.property(chainArb, fc.nat(), (rows, cut) => {
        const kept = cut % rows.length;
        const head = { seq: rows.length, hash: rows.at(-1)!.hash };
        expect(verifyChain(rows.slice(0, kept), { expectedHead: head })).toMatchObject({
          ok: false,
          firstBadSeq: kept + 1,
        });
      }),
    );
  });
});
