import type { ChainHead } from "./audit-event.js";
import { GENESIS_HASH } from "./hash-audit-event.js";

/** Reads `SEQ:HASH` as printed by `audit export` and `audit verify`; null when it is not one. */
export function parseChainHead(text: string): ChainHead | null {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/i.exec(text.trim());
  if (!m?.[1] || !m[2]) return null;
  const head = { seq: Number(m[1]), hash: m[2].toLowerCase() };
  // Seq 0 is the empty trail, which has exactly one hash.
  return head.seq === 0 && head.hash !== GENESIS_HASH ? null : head;
}
