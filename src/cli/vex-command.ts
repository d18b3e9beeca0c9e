import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import type { PatchpilotConfig } from "../config/file-schema.js";
import { PatchpilotError } from "../core/errors.js";
import { createDatabase } from "../db/client.js";
import { exportVexForImage } from "../services/risk/export-vex.js";
import { importVex } from "../services/risk/import-vex.js";

export const VEX_USAGE = `Usage:
  patchpilot vex import FILE [--team ID]
      Apply an OpenVEX or CycloneDX VEX document to the images it names; prints the summary.
      --team  refuse statements about images of other teams, as a team's upload token does
  patchpilot vex export --image REF
      Print the image's risk acceptances and VEX decisions as an OpenVEX document.`;

type Io = { out(s: string): void; err(s: string): void };
export type VexCommandDeps = { databaseUrl: string; config: PatchpilotConfig; now: () => Date };

type VexRequest =
  | { command: "help" }
  | { command: "import"; file: string; team?: string }
  | { command: "export"; image: string };

/** `patchpilot vex …`; exit 0 done, 1 refused or failed, 2 bad arguments. Prints the API's JSON. */
export async function vexCommand(args: string[], io: Io, deps: VexCommandDeps): Promise<number> {
  const request = parseVexArgs(args);
  if (typeof request === "string") {
    io.err(`${request}\n\n${VEX_USAGE}`);
    return 2;
  }
  if (request.command === "help") {
    io.out(VEX_USAGE);
    return 0;
  }
  let doc: unknown;
  if (request.command === "import") {
    const read = await readJson(request.file);
    if (typeof read === "string") {
      io.err(read);
      return 1;
    }
    doc = read.doc;
  }
  const database = createDatabase(deps.databaseUrl, { max: 1 });
  try {
    if (request.command === "import") {
      const user = operator();
      const summary = await importVex(
        { db: database.db, now: deps.now },
        {
          doc,
          actor: { id: `cli:${user}`, name: user },
          origin: { source: "cli", command: "vex import", file: request.file },
          ...(request.team === undefined ? {} : { teamId: request.team }),
        },
      );
      io.out(JSON.stringify(summary, null, 2));
      return 0;
    }
    const exported = await exportVexForImage(
      { db: database.db },
      { imageRef: request.image, now: deps.now() },
    );
    io.out(JSON.stringify(exported, null, 2));
    return 0;
  } catch (e) {
    if (e instanceof PatchpilotError && e.kind === "user") {
      io.err(e.message);
      return 1;
    }
    io.err(`vex ${request.command} failed: ${rootMessage(e)}`);
    return 1;
  } finally {
    await database.close().catch(() => {});
  }
}

function parseVexArgs(args: string[]): VexRequest | string {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "help":
      case "--help":
      case "-h":
        return { command: "help" };
      case "import": {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          strict: true,
          options: { team: { type: "string" } },
        });
        const [file, ...extra] = positionals;
        if (file === undefined) return "vex import needs the FILE to read";
        if (extra.length > 0) return `vex import reads one file; unexpected "${extra.join(" ")}"`;
        return { command: "import", file, ...(values.team === undefined ? {} : { team: values.team }) };
      }
      case "export": {
        const { values } = parseArgs({ args: rest, strict: true, options: { image: { type: "string" } } });
        if (values.image === undefined)
          return "vex export needs --image REF (a repository such as ghcr.io/acme/api)";
        return { command: "export", image: values.image };
      }
      case undefined:
        return "vex needs a subcommand: import or export";
      default:
        return `unknown vex subcommand "${command}"`;
    }
  } catch (e) {
    // parseArgs reports unknown options and missing values with a readable message.
    return e instanceof Error ? e.message : String(e);
  }
}

async function readJson(file: string): Promise<{ doc: unknown } | string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = e instanceof Error && "code" in e ? String(e.code) : "";
    return `cannot read ${file}${code === "ENOENT" ? ": no such file" : code ? ` (${code})` : ""}`;
  }
  try {
    return { doc: JSON.parse(text) };
  } catch (e) {
    return `${file} is not valid JSON (${e instanceof Error ? e.message : String(e)}); a VEX document is a JSON object`;
  }
}

function operator(): string {
  try {
    return userInfo().username || "unknown";
  } catch {
    // No passwd entry (some containers): the audit row still says it came from the CLI.
    return "unknown";
  }
}

function rootMessage(e: unknown): string {
  let root = e;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  return root instanceof Error ? root.message : String(root);
}
