#!/usr/bin/env node
// Runs the TypeScript CLI directly (see docs/decisions.md: one way to run, no build step).
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/cli.ts");
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// A library that forgets a handle must not keep a finished command alive.
setTimeout(() => process.exit(code), 3_000).unref();
