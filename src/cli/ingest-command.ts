import { readFile, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { PatchpilotError } from "../core/errors.js";
import { createDatabase } from "../db/client.js";
import { parseReportBody } from "../http/parse-json-body.js";
import { ingestScan } from "../services/ingest-scan.js";

type Io = { out(s: string): void; err(s: string): void };

const USAGE = "Usage: patchpilot ingest FILE [--image REF] [--digest sha256:…] [--team ID]";

/**
 * The same ingestion as POST /api/v1/scans, for an operator with database access. --team makes
 * it behave like that team's token (refused for another team's image). The new-critical alert
 * is delivered by the running workers' reconciler.
 */
export async function ingestCommand(
  args: string[],
  io: Io,
  deps: { databaseUrl: string; maxBytes: number; now: () => Date },
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const file = parsed.positionals[0];
  if (file === undefined || parsed.positionals.length > 1) {
    io.err(USAGE);
    return 2;
  }
  let body: Buffer;
  try {
    const size = (await stat(file)).size;
    if (size > deps.maxBytes) {
      io.err(
        `${file} is ${(size / 1024 / 1024).toFixed(1)} MB, over the ${(deps.maxBytes / 1024 / 1024).toFixed(0)} MB limit (scans.maxUploadBytes)`,
      );
      return 1;
    }
    body = await readFile(file);
  } catch {
    io.err(`${file}: cannot read the file (does it exist?)`);
    return 1;
  }
  const database = createDatabase(deps.databaseUrl, { max: 2 });
  try {
    const { created, ...answer } = await ingestScan(
      { db: database.db, now: deps.now },
      {
        report: parseReportBody(body),
        imageRef: parsed.values.image,
        digest: parsed.values.digest,
        uploaderTeam: parsed.values.team ?? null,
        actor: { id: "cli", name: "patchpilot ingest" },
        origin: { source: "cli", file },
      },
    );
    io.out(JSON.stringify(answer));
    if (!created) io.err("This report was ingested before; nothing changed.");
    return 0;
  } catch (e) {
    if (e instanceof PatchpilotError && e.kind === "user") {
      io.err(`${file}: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await database.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { image: { type: "string" }, digest: { type: "string" }, team: { type: "string" } },
  });
}
