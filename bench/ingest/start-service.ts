import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type ServiceProcess = {
  pid: number;
  port: number;
  /** The last lines the service wrote, for a failure message. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
};

/**
 * `node bin/patchpilot.js start` as a child process, exactly as an operator runs it, so its
 * memory is its own and the load generator (this process) does not share its event loop.
 */
export async function startServiceProcess(
  env: Record<string, string>,
  opts: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), "bin/patchpilot.js", "start"], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (d: Buffer) => {
    tail = (tail + String(d)).slice(-8_000);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const port = await readyPort(proc, () => tail, exited, opts.timeoutMs ?? 30_000);
  const pid = proc.pid;
  if (pid === undefined) throw new Error("the service process has no pid");
  return {
    pid,
    port,
    output: () => tail,
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function readyPort(
  proc: ChildProcess,
  output: () => string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<number> {
  const until = Date.now() + timeoutMs;
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  while (Date.now() < until && !dead) {
    const m = /ready on port (\d+)/.exec(output());
    if (m?.[1]) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill("SIGKILL");
  throw new Error(`patchpilot did not start (${dead ? "it exited" : "timed out"}):\n${output()}`);
}
