import { type SQL, sql } from "drizzle-orm";

/** Which images a posture query covers. */
export type ImageScope =
  | { kind: "image"; imageId: string }
  | { kind: "team"; teamId: string }
  /** Several teams' images at once (building all digests of a subscription). */
  | { kind: "teams"; teamIds: readonly string[] }
  | { kind: "unowned" }
  | { kind: "fleet" };

/** The scope as a condition on the `images` row aliased `i`. */
export function imageScopeSql(scope: ImageScope): SQL {
  switch (scope.kind) {
    case "image":
      return sql`i.id = ${scope.imageId}::uuid`;
    case "team":
      return sql`i.team_id = ${scope.teamId}::text`;
    case "teams":
      return sql`i.team_id = ANY (${sql.param([...scope.teamIds])}::text[])`;
    case "unowned":
      return sql`i.team_id IS NULL`;
    case "fleet":
      return sql`TRUE`;
  }
}
