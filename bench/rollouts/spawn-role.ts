import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { REPO_ROOT } from "../ingest/start-service.js";

export type RoleProcess = { pid: number; port: number; output(): string; stop(): Promise<void> };

/** `node bin/patchpilot.js <role>` as its own process, as deployed; resolves once it listens. */
export async function spawnRole(
  role: "start" | "web" | "worker",
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<RoleProcess> {
  // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, "bin/patchpilot.js", role], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  // e.g. BENCH_SERVICE_LOG=/tmp/web.log with BENCH_NODE_ARGS=--trace-gc to see the service's pauses.
  const logFile = process.env.BENCH_SERVICE_LOG;
  const keep = (d: Buffer) => {
    tail = (tail + String(d)).slice(-8_000);
    if (logFile) appendFileSync(logFile, d);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const until = Date.now() + timeoutMs;
  let port: string | undefined;
  for (;;) {
    port = /ready on port (\d+)/.exec(tail)?.[1];
    if (port) break;
    if (proc.exitCode !== null || Date.now() > until) {
      proc.kill("SIGKILL");
      throw new Error(`patchpilot ${role} did not start:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: proc.pid ?? 0,
    port: Number(port),
    output: () => tail,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
