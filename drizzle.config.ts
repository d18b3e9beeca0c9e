import { defineConfig } from "drizzle-kit";

// Generation needs no database: `npm run db:generate` diffs the schema against migrations/.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema/index.ts",
  out: process.env.DRIZZLE_OUT ?? "./migrations",
});
