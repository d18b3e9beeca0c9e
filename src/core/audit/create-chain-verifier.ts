import type { ChainHead, StoredAuditEvent } from "./audit-event.js";
import { GENESIS_HASH, hashAuditRecord } from "./hash-audit-event.js";

export type ChainVerdict =
  | { ok: true; head: ChainHead | null; count: number }
  | { ok: false; firstBadSeq: number; reason: string };

export type ChainVerifier = {
  /** Checks the next row in seq order; false once the chain is broken (further rows are ignored). */
  push(row: StoredAuditEvent): boolean;
  finish(): ChainVerdict;
};

export type ChainVerifierOptions = {
  /**
   * The head recorded by an earlier export. Rows can be removed from the end of a chain without
   * breaking it, so only this reveals a truncated tail (or a tail rewritten since).
   */
  expectedHead?: ChainHead;
};

/**
 * Verifies a trail one row at a time, so a chain of millions of rows needs constant memory. Each
 * row must carry the next seq, point at the previous row's hash and hash to its own `hash`.
 */
export function createChainVerifier(opts: ChainVerifierOptions = {}): ChainVerifier {
  const expected = opts.expectedHead;
  if (expected && !(Number.isSafeInteger(expected.seq) && expected.seq >= 0)) {
    throw new RangeError(`expected head seq must be a whole number ≥ 0, not ${expected.seq}`);
  }
  let last: ChainHead = { seq: 0, hash: GENESIS_HASH };
  let broken: { firstBadSeq: number; reason: string } | null =
    expected?.seq === 0 && expected.hash !== GENESIS_HASH
      ? { firstBadSeq: 0, reason: "the expected head seq 0 is the empty trail, whose hash is all zeros" }
      : null;

  const fail = (firstBadSeq: number, reason: string): false => {
    broken = { firstBadSeq, reason };
    return false;
  };

  return {
    push(row) {
      if (broken) return false;
      const seq = last.seq + 1;
      if (row.seq !== seq) {
        if (row.seq > seq) {
          const missing =
            row.seq === seq + 1 ? `seq ${seq} is missing` : `seqs ${seq}–${row.seq - 1} are missing`;
          return fail(seq, `${missing} (the next row is seq ${row.seq})`);
        }
        return fail(seq, `found seq ${row.seq} where seq ${seq} should be`);
      }
      if (row.prevHash !== last.hash) {
        return fail(
          seq,
          seq === 1
            ? "it does not start from the genesis hash"
            : `its prev_hash is not the hash of seq ${last.seq}`,
        );
      }
      let computed: string;
      try {
        computed = hashAuditRecord(last.hash, row);
      } catch (e) {
        return fail(seq, `its contents cannot be hashed (${e instanceof Error ? e.message : String(e)})`);
      }
      if (computed !== row.hash)
        return fail(seq, "its contents do not match its hash (the row was modified)");
      if (expected && seq === expected.seq && row.hash !== expected.hash) {
        return fail(
          seq,
          `its hash differs from the expected head: the trail was rewritten at or before seq ${seq}`,
        );
      }
      last = { seq, hash: row.hash };
      return true;
    },
    finish() {
      if (broken) return { ok: false, ...broken };
      if (expected && last.seq < expected.seq) {
        const removed =
          last.seq + 1 === expected.seq
            ? `seq ${expected.seq} was`
            : `seqs ${last.seq + 1}–${expected.seq} were`;
        return {
          ok: false,
          firstBadSeq: last.seq + 1,
          reason: `the trail ends at seq ${last.seq} but the expected head is seq ${expected.seq}: ${removed} removed`,
        };
      }
      return { ok: true, head: last.seq === 0 ? null : last, count: last.seq };
    },
  };
}
