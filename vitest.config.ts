import { defineConfig } from "vitest/config";

/**
 * Tests that start and kill whole patchpilot processes. They run after the rest, one file at a
 * time (vitest.processes.config.ts): each spawns several Node processes, and running them beside
 * the in-process tests would only make both slower and their timing less representative.
 */
export const PROCESS_TESTS = [
  "test/e2e/rollout-kill9.test.ts",
  "test/e2e/rollout-faults.test.ts",
  "test/e2e/service-lifecycle.test.ts",
  "test/e2e/demo-readme.test.ts",
  "test/e2e/digest-kill9.test.ts",
];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", ...PROCESS_TESTS],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores here: more workers only contend for Postgres and Redis.
    maxWorkers: 2,
  },
});
