import { spawn } from "node:child_process";
import { REPO_ROOT } from "../ingest/start-service.js";

export type RunningService = { close(): Promise<void>; pid?: number | undefined };

/**
 * `patchpilot start` or `patchpilot worker` as its own process, as deployed: its event loop is
 * not shared with the fake Slack and the bench, which would otherwise slow its job handling.
 */
export async function spawnService(
  role: "all" | "worker",
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<RunningService> {
  // BENCH_FANOUT_CPU_PROF=<dir> writes a V8 CPU profile of each service process there, at exit.
  const profile = process.env.BENCH_FANOUT_CPU_PROF;
  const flags = profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [];
  const proc = spawn(process.execPath, [...flags, "bin/patchpilot.js", role === "all" ? "start" : "worker"], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "inherit", "pipe"],
  });
  let tail = "";
  proc.stderr?.on("data", (d: Buffer) => {
    tail = (tail + String(d)).slice(-8_000);
    if (tail.includes("ready on port")) process.stderr.write(d);
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const until = Date.now() + timeoutMs;
  while (!/ready on port \d+/.test(tail)) {
    if (proc.exitCode !== null || Date.now() > until) {
      proc.kill("SIGKILL");
      throw new Error(`patchpilot ${role} did not start:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: proc.pid,
    async close() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
