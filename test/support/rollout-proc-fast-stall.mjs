// Loaded with `node --import` into a spawned patchpilot worker: BullMQ's stall recovery is scaled
// down (lock 2 s, stall check every 1 s instead of 30 s each), so a test can kill -9 workers and
// watch the recovery without waiting minutes. Only timing changes; the app's code runs unchanged.
import { register } from "node:module";

register("./rollout-proc-fast-stall-hooks.mjs", import.meta.url);
