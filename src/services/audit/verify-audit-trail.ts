import type { ChainHead } from "../../core/audit/audit-event.js";
import { type ChainVerdict, createChainVerifier } from "../../core/audit/create-chain-verifier.js";
import { readAuditEvents } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";

/** Walks the whole trail page by page, never holding more than one page in memory. */
export async function verifyAuditTrail(
  db: Db,
  opts: { expectedHead?: ChainHead; pageSize?: number } = {},
): Promise<ChainVerdict> {
  const verifier = createChainVerifier(opts.expectedHead ? { expectedHead: opts.expectedHead } : {});
  const limit = opts.pageSize ?? 5_000;
  // The first page has no lower bound, so rows a superuser slipped in below seq 1 are seen too.
  let afterSeq: number | undefined;
  for (;;) {
    const rows = await readAuditEvents(db, afterSeq === undefined ? { limit } : { afterSeq, limit });
    for (const row of rows) {
      if (!verifier.push(row)) return verifier.finish();
    }
    const last = rows.at(-1);
    if (!last || rows.length < limit) return verifier.finish();
    afterSeq = last.seq;
  }
}
