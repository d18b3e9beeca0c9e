import { defineConfig } from "vitest/config";
import { PROCESS_TESTS } from "./vitest.config.js";

export default defineConfig({
  test: {
    include: PROCESS_TESTS,
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
  },
});
