import type { ChainHead } from "../../core/audit/audit-event.js";
import {
  type AuditExportFormat,
  formatAuditHeader,
  formatAuditRow,
  formatChainHead,
} from "../../core/audit/format-audit-row.js";
import { readAuditEvents, readChainHead } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";

export type AuditExportOptions = { from?: Date; to?: Date; format: AuditExportFormat; pageSize?: number };

/**
 * Streams the events with `from <= at < to` in seq order, then the chain head. Each chunk is one
 * or more whole lines, each ending in "\n"; a returned promise is awaited (back-pressure). The
 * head is read first and the export stops there, so it names exactly the trail as it was when
 * the export began, whatever is appended meanwhile.
 */
export async function exportAuditTrail(
  db: Db,
  opts: AuditExportOptions,
  write: (chunk: string) => void | Promise<void>,
): Promise<{ count: number; head: ChainHead }> {
  const head = await readChainHead(db);
  const limit = opts.pageSize ?? 5_000;
  const header = formatAuditHeader(opts.format);
  if (header) await write(header);
  let count = 0;
  let afterSeq = 0;
  while (afterSeq < head.seq) {
    const rows = await readAuditEvents(db, {
      afterSeq,
      throughSeq: head.seq,
      limit,
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.to ? { to: opts.to } : {}),
    });
    const last = rows.at(-1);
    if (!last) break;
    await write(rows.map((row) => formatAuditRow(row, opts.format)).join(""));
    count += rows.length;
    if (rows.length < limit) break;
    afterSeq = last.seq;
  }
  await write(formatChainHead(head, opts.format));
  return { count, head };
}
