import { createConnection, createServer, type Socket } from "node:net";

export type TcpProxy = {
  port: number;
  /** Drops every open connection and holds new ones unanswered (a stalled, unreachable server). */
  stall(): void;
  /** Forwards again; connections held during the stall are dropped so clients reconnect. */
  resume(): void;
  close(): Promise<void>;
};

/** A TCP proxy to `target` that a test can stall and resume, e.g. in front of Postgres. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let stalled = false;
  const open = new Set<Socket>();
  const held = new Set<Socket>();
  const track = (s: Socket, set: Set<Socket>) => {
    set.add(s);
    s.on("close", () => set.delete(s));
    s.on("error", () => s.destroy());
  };
  const server = createServer((client) => {
    if (stalled) return track(client, held);
    const upstream = createConnection(target);
    track(client, open);
    track(upstream, open);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const dropAll = (set: Set<Socket>) => {
    for (const s of set) s.destroy();
  };
  return {
    port,
    stall() {
      stalled = true;
      dropAll(open);
    },
    resume() {
      stalled = false;
      dropAll(held);
    },
    async close() {
      dropAll(open);
      dropAll(held);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
