// A tiny in-process stand-in for Prometheus' instant-query API (`/api/v1/query`, GET or form
// POST) for `npm run demo`: a healthy service. A request-count query (PromQL `increase(`) answers
// 1840 requests; any other query (the error ratio) answers 0.21 %. It logs nothing; the demo can
// print the queries it was asked.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type DemoPrometheus = {
  /** `http://127.0.0.1:<port>`, for prometheus.url. */
  url: string;
  /** Every PromQL query asked so far, in order. */
  queries(): string[];
  close(): Promise<void>;
};

export const DEMO_ERROR_RATIO = "0.0021";
export const DEMO_REQUESTS = "1840";

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startDemoPrometheus(): Promise<DemoPrometheus> {
  const asked: string[] = [];
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://prometheus");
      if (url.pathname !== "/api/v1/query")
        return json(res, 404, { status: "error", errorType: "not_found", error: "only /api/v1/query" });
      const params = req.method === "POST" ? new URLSearchParams(await readBody(req)) : url.searchParams;
      const query = params.get("query");
      if (!query) return json(res, 400, { status: "error", errorType: "bad_data", error: "no query" });
      asked.push(query);
      const value = /\bincrease\s*\(/.test(query) ? DEMO_REQUESTS : DEMO_ERROR_RATIO;
      json(res, 200, {
        status: "success",
        data: { resultType: "vector", result: [{ metric: {}, value: [Date.now() / 1000, value] }] },
      });
    })().catch(() => json(res, 500, { status: "error", errorType: "internal", error: "demo fake failed" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    queries: () => [...asked],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
