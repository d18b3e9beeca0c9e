import type { StoredAuditEvent } from "./audit-event.js";
import {
  type ChainVerdict,
  type ChainVerifierOptions,
  createChainVerifier,
} from "./create-chain-verifier.js";

/** Verifies rows given in seq order; for a trail read in pages, use `createChainVerifier`. */
export function verifyChain(rows: Iterable<StoredAuditEvent>, opts: ChainVerifierOptions = {}): ChainVerdict {
  const verifier = createChainVerifier(opts);
  for (const row of rows) {
    if (!verifier.push(row)) break;
  }
  return verifier.finish();
}
