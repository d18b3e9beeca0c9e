import { z } from "zod";
import { configFileSchema } from "./file-schema.js";

/** The JSON Schema published for editors; references between sections are checked by us, not it. */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(configFileSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: "patchpilot.yaml" }, null, 2)}\n`;
}
