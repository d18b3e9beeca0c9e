import { parseArgs } from "node:util";
import { PatchpilotError } from "../core/errors.js";
import { createDatabase } from "../db/client.js";
import { createToken, listTokens, revokeToken } from "../services/upload-tokens.js";

type Io = { out(s: string): void; err(s: string): void };

const USAGE = `Usage:
  patchpilot token create --team ID [--name NAME] [--scope upload|audit]   prints the token once
  patchpilot token revoke TOKEN_ID
  patchpilot token list`;

export async function tokenCommand(
  args: string[],
  io: Io,
  databaseUrl: string,
  now: () => Date,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  const database = createDatabase(databaseUrl, { max: 1 });
  try {
    if (sub === "create") {
      const scope = values.scope ?? "upload";
      if (scope !== "upload" && scope !== "audit") {
        io.err(`--scope must be upload or audit, not "${scope}"\n${USAGE}`);
        return 2;
      }
      if (scope === "upload" && values.team === undefined) {
        io.err(
          `token create needs --team ID: an upload token belongs to the team whose images it may scan\n${USAGE}`,
        );
        return 2;
      }
      const created = await createToken(database.db, {
        teamId: values.team ?? null,
        name: values.name ?? `${values.team ?? "audit"} token`,
        scopes: [scope],
      });
      io.err(
        `Created ${scope} token ${created.id}${values.team ? ` for team ${values.team}` : ""}. It is shown once; store it now.`,
      );
      io.out(created.token);
      return 0;
    }
    if (sub === "revoke" && rest[0] !== undefined) {
      const ok = await revokeToken(database.db, rest[0], now());
      if (!ok) {
        io.err(
          `No active token with id ${rest[0]} (already revoked, or never existed). See: patchpilot token list`,
        );
        return 1;
      }
      io.out(`Revoked token ${rest[0]}.`);
      return 0;
    }
    if (sub === "list") {
      for (const t of await listTokens(database.db)) {
        io.out(
          [
            t.id,
            t.teamId ?? "-",
            t.scopes.join("+"),
            t.name,
            `created ${t.createdAt.toISOString()}`,
            t.revokedAt
              ? `revoked ${t.revokedAt.toISOString()}`
              : t.lastUsedAt
                ? `last used ${t.lastUsedAt.toISOString()}`
                : "never used",
          ].join("\t"),
        );
      }
      return 0;
    }
    io.err(USAGE);
    return 2;
  } catch (e) {
    if (e instanceof PatchpilotError && e.kind === "user") {
      io.err(e.message);
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
    options: { team: { type: "string" }, name: { type: "string" }, scope: { type: "string" } },
  });
}
