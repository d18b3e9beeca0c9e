// Writes schema/patchpilot.schema.json from the zod schema, for editor completion of
// patchpilot.yaml. `npm run schema` regenerates it; a test fails when it is stale.
import { writeFile } from "node:fs/promises";
import { configJsonSchemaText } from "../src/config/config-json-schema.js";

await writeFile(new URL("../schema/patchpilot.schema.json", import.meta.url), configJsonSchemaText());
