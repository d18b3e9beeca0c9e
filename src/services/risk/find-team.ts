import { asc, eq } from "drizzle-orm";
import { userError } from "../../core/errors.js";
import type { Db } from "../../db/client.js";
import { teams } from "../../db/schema/index.js";
import type { Tx } from "./valid-acceptance.js";

export type TeamRow = typeof teams.$inferSelect;

/** The team with this id, or a user error that lists the teams that exist. */
export async function findTeam(db: Db | Tx, teamId: string): Promise<TeamRow> {
  const id = teamId.trim();
  const rows = id === "" ? [] : await db.select().from(teams).where(eq(teams.id, id));
  if (rows[0]) return rows[0];
  const known = await db.select({ id: teams.id }).from(teams).orderBy(asc(teams.id));
  throw userError(
    "unknown_team",
    `unknown team "${id.slice(0, 100)}" (known: ${
      known.map((t) => t.id).join(", ") || "none — add teams to patchpilot.yaml and start patchpilot once"
    })`,
    404,
  );
}
