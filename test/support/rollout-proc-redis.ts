import { type ChildProcess, spawn } from "node:child_process";
import { Redis } from "ioredis";
import { freePort } from "./private-redis.js";

export type StallableRedis = {
  url: string;
  /** SIGSTOP: the server keeps its data and its sockets but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** FLUSHALL: everything in Redis is gone, as after a restart without persistence. */
  flushAll(): Promise<void>;
  stop(): Promise<void>;
};

/** A private redis-server (no persistence) that a test can freeze, thaw and empty. */
export async function startStallableRedis(): Promise<StallableRedis> {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = async <T>(fn: (c: Redis) => Promise<T>): Promise<T> => {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await c.connect();
      return await fn(c);
    } finally {
      c.disconnect();
    }
  };
  for (let i = 0; ; i++) {
    try {
      await client((c) => c.ping());
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    pause: () => void proc.kill("SIGSTOP"),
    resume: () => void proc.kill("SIGCONT"),
    flushAll: () => client((c) => c.flushall()).then(() => undefined),
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGCONT");
        proc.kill("SIGKILL");
      }),
  };
}
