import { parseArgs } from "node:util";
import { z } from "zod";
import type { ChainHead } from "../core/audit/audit-event.js";
import type { AuditExportFormat } from "../core/audit/format-audit-row.js";
import { GENESIS_HASH } from "../core/audit/hash-audit-event.js";
import { parseChainHead } from "../core/audit/parse-chain-head.js";
import { createDatabase } from "../db/client.js";
import { exportAuditTrail } from "../services/audit/export-audit-trail.js";
import { verifyAuditTrail } from "../services/audit/verify-audit-trail.js";

export const AUDIT_USAGE = `Usage:
  patchpilot audit verify [--head SEQ:HASH]
      Walk the hash chain. Exit 0 when it is intact, 1 at the first bad row.
      --head  the chain head printed by an earlier export; catches rows cut off the end
  patchpilot audit export [--from ISO] [--to ISO] [--format jsonl|csv]
      Print the events with from <= at < to (default: all) in seq order, jsonl by default,
      then the chain head to keep for a later \`audit verify --head\`.`;

type Io = { out(s: string): void; err(s: string): void };

type AuditRequest =
  | { command: "help" }
  | { command: "verify"; expectedHead?: ChainHead }
  | { command: "export"; from?: Date; to?: Date; format: AuditExportFormat };

/** `patchpilot audit …`; returns the exit code: 0 fine, 1 broken trail or failure, 2 bad arguments. */
export async function auditCommand(args: string[], io: Io, databaseUrl: string): Promise<number> {
  const request = parseAuditArgs(args);
  if (typeof request === "string") {
    io.err(`${request}\n\n${AUDIT_USAGE}`);
    return 2;
  }
  if (request.command === "help") {
    io.out(AUDIT_USAGE);
    return 0;
  }
  const database = createDatabase(databaseUrl, { max: 1 });
  try {
    if (request.command === "verify") {
      const verdict = await verifyAuditTrail(
        database.db,
        request.expectedHead ? { expectedHead: request.expectedHead } : {},
      );
      if (!verdict.ok) {
        io.out(`audit trail BROKEN at seq ${verdict.firstBadSeq}: ${verdict.reason}`);
        return 1;
      }
      const head = verdict.head ?? { seq: 0, hash: GENESIS_HASH };
      const events = `${verdict.count} event${verdict.count === 1 ? "" : "s"}`;
      io.out(`audit trail OK: ${events}, head seq ${head.seq} hash ${head.hash}`);
      return 0;
    }
    const { from, to, format } = request;
    const result = await exportAuditTrail(
      database.db,
      { format, ...(from ? { from } : {}), ...(to ? { to } : {}) },
      // io.out ends what it prints with a newline; the chunks already end with one.
      (chunk) => io.out(chunk.slice(0, -1)),
    );
    io.err(`exported ${result.count} event(s); chain head seq ${result.head.seq} hash ${result.head.hash}`);
    return 0;
  } catch (e) {
    io.err(`audit ${request.command} failed: ${describeFailure(e)}`);
    return 1;
  } finally {
    await database.close().catch(() => {});
  }
}

const isoInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/** The request, or what is wrong with the arguments. */
function parseAuditArgs(args: string[]): AuditRequest | string {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "help":
      case "--help":
      case "-h":
        return { command: "help" };
      case "verify": {
        const { values } = parseArgs({ args: rest, options: { head: { type: "string" } }, strict: true });
        if (values.head === undefined) return { command: "verify" };
        const expectedHead = parseChainHead(values.head);
        if (!expectedHead)
          return `--head must be SEQ:HASH as an export prints it (a 64-digit hex hash), not "${values.head}"`;
        return { command: "verify", expectedHead };
      }
      case "export": {
        const { values } = parseArgs({
          args: rest,
          options: {
            from: { type: "string" },
            to: { type: "string" },
            format: { type: "string", default: "jsonl" },
          },
          strict: true,
        });
        if (values.format !== "jsonl" && values.format !== "csv")
          return `--format must be jsonl or csv, not "${values.format}"`;
        const from = values.from === undefined ? undefined : parseInstant("--from", values.from);
        const to = values.to === undefined ? undefined : parseInstant("--to", values.to);
        if (typeof from === "string") return from;
        if (typeof to === "string") return to;
        if (from && to && from >= to) return "--from must be before --to";
        return { command: "export", format: values.format, ...(from ? { from } : {}), ...(to ? { to } : {}) };
      }
      case undefined:
        return "audit needs a subcommand: verify or export";
      default:
        return `unknown audit subcommand "${command}"`;
    }
  } catch (e) {
    // parseArgs reports unknown options and missing values as TypeErrors with a readable message.
    return e instanceof Error ? e.message : String(e);
  }
}

function parseInstant(flag: string, text: string): Date | string {
  const r = isoInstant.safeParse(text);
  const date = new Date(text);
  if (!r.success || Number.isNaN(date.getTime())) {
    return `${flag} must be an ISO 8601 date or date-time with a zone, e.g. 2025-01-31 or 2025-01-31T09:00:00Z, not "${text}"`;
  }
  return date;
}

function describeFailure(e: unknown): string {
  // drizzle wraps the driver's error in one that quotes the whole query; the driver's says more.
  let root = e;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  const message = root instanceof Error ? root.message : String(root);
  const code = root instanceof Error && "code" in root ? String(root.code) : "";
  if (
    ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "EAI_AGAIN"].includes(code) ||
    /connect|timeout/i.test(message)
  ) {
    return `cannot reach the database (${message}). Check DATABASE_URL and that PostgreSQL runs.`;
  }
  if (code === "42P01") return `${message}. Has \`patchpilot migrate\` run on this database?`;
  return message;
}
