import { setTimeout as sleep } from "node:timers/promises";

/** One series of an instant vector. `value` is a JS number: "NaN", "+Inf" and "-Inf" included. */
export type PromSample = { labels: Record<string, string>; value: number };

/** What an instant query returned (Prometheus' `resultType` and `result`). */
export type PromValue =
  | { type: "vector"; samples: PromSample[] }
  | { type: "scalar"; value: number }
  | { type: "string"; value: string }
  | { type: "matrix"; series: Array<{ labels: Record<string, string>; values: number[] }> };

export type PrometheusErrorKind =
  /** No answer: connection refused, DNS, reset, or no answer within the timeout. */
  | "unreachable"
  /** Prometheus answered 5xx / 429, or said the query timed out or was cancelled. */
  | "unavailable"
  /** Prometheus rejected the query (bad PromQL, or it could not be executed). */
  | "rejected"
  /** The answer was not what the Prometheus HTTP API sends (wrong URL, a proxy's page, bad JSON). */
  | "bad-answer";

/**
 * A failed Prometheus query, with a message for an operator: where, what went wrong, what to fix.
 * Never a stack trace, a password from the URL, or the whole response body.
 */
export class PrometheusError extends Error {
  override readonly name = "PrometheusError";
  readonly kind: PrometheusErrorKind;
  /** Asking again later may work (Prometheus down or overloaded); the client already retried. */
  readonly retryable: boolean;
  /** HTTP status Prometheus answered; 0 when there was no answer. */
  readonly status: number;

  constructor(message: string, opts: { kind: PrometheusErrorKind; retryable: boolean; status: number }) {
    super(message);
    this.kind = opts.kind;
    this.retryable = opts.retryable;
    this.status = opts.status;
  }
}

/** Which config entry a query came from, so an error can say what to fix in patchpilot.yaml. */
export type QuerySource = { healthCheck: string; field?: "query" | "requestsQuery" };

export type PrometheusClient = {
  /** An instant query evaluated at `at` (default: Prometheus' now). Throws `PrometheusError`. */
  query(promql: string, at?: Date, source?: QuerySource): Promise<PromValue>;
};

export type PrometheusClientOptions = {
  /** prometheus.url, e.g. http://prometheus:9090 (a path prefix such as /prometheus is kept). */
  url: string;
  /** Milliseconds before one attempt is abandoned (default 10 000); also sent as the query timeout. */
  timeoutMs?: number;
  /** Extra attempts after an unreachable or unavailable answer (default 2). */
  retries?: number;
  /** Base of the backoff: attempt n waits a random time up to base × 2ⁿ (default 500 ms). */
  retryBaseMs?: number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  logger?: { warn(obj: object, msg: string): void };
};

const MAX_ERROR_CHARS = 300;

export function createPrometheusClient(opts: PrometheusClientOptions): PrometheusClient {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const retries = opts.retries ?? 2;
  const retryBaseMs = opts.retryBaseMs ?? 500;
  const doFetch = opts.fetch ?? fetch;
  const shown = displayUrl(opts.url);
  const { endpoint, authorization, secrets } = splitCredentials(opts.url);
  const redact = (e: PrometheusError) =>
    new PrometheusError(
      secrets.reduce((m, secret) => m.split(secret).join("[redacted]"), e.message),
      { kind: e.kind, retryable: e.retryable, status: e.status },
    );

  async function attempt(promql: string, at: Date | undefined, source: QuerySource | undefined) {
    const form = new URLSearchParams({
      query: promql,
      timeout: `${Math.max(1, Math.floor(timeoutMs / 1000))}s`,
    });
    if (at !== undefined) form.set("time", (at.getTime() / 1000).toFixed(3));
    let res: Response;
    let text: string;
    try {
      res = await doFetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          ...(authorization === undefined ? {} : { authorization }),
        },
        body: form.toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw redact(
        new PrometheusError(`Prometheus could not be reached at ${shown}: ${networkReason(err, timeoutMs)}`, {
          kind: "unreachable",
          retryable: true,
          status: 0,
        }),
      );
    }
    try {
      return parseAnswer(res.status, text, { shown, source });
    } catch (err) {
      throw err instanceof PrometheusError ? redact(err) : err;
    }
  }

  return {
    async query(promql, at, source) {
      for (let n = 0; ; n++) {
        try {
          return await attempt(promql, at, source);
        } catch (err) {
          if (!(err instanceof PrometheusError) || !err.retryable) throw err;
          if (n >= retries) {
            if (retries === 0) throw err;
            throw new PrometheusError(
              `${err.message} (${n + 1} attempts); check prometheus.url in patchpilot.yaml and that Prometheus is up`,
              { kind: err.kind, retryable: true, status: err.status },
            );
          }
          const waitMs = Math.round(Math.random() * retryBaseMs * 2 ** n);
          opts.logger?.warn({ prometheus: shown, attempt: n + 1, waitMs, kind: err.kind }, err.message);
          await sleep(waitMs);
        }
      }
    },
  };
}

/** The query endpoint without credentials, and those as a Basic authorization header. */
function splitCredentials(url: string): { endpoint: string; authorization?: string; secrets: string[] } {
  const base = url.replace(/\/+$/, "");
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    return { endpoint: `${base}/api/v1/query`, secrets: [] };
  }
  if (u.username === "" && u.password === "") return { endpoint: `${base}/api/v1/query`, secrets: [] };
  const secrets = [u.password, decodeURIComponent(u.password)].filter((p) => p.length >= 3);
  const basic = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = "";
  u.password = "";
  return {
    endpoint: `${u.toString().replace(/\/+$/, "")}/api/v1/query`,
    authorization: `Basic ${Buffer.from(basic).toString("base64")}`,
    secrets,
  };
}

/** The URL without user and password, for messages. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString().replace(/\/+$/, "");
  } catch {
    return "the configured prometheus.url";
  }
}

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError")
    return `no answer within ${formatSeconds(timeoutMs)}`;
  const code = typeof e?.cause?.code === "string" ? e.cause.code : undefined;
  const causeMessage = typeof e?.cause?.message === "string" ? e.cause.message : undefined;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT")
    return `no answer within ${formatSeconds(timeoutMs)}`;
  return oneLine(causeMessage ?? (typeof e?.message === "string" ? e.message : "network error"));
}

const formatSeconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS)}…` : line;
}

type ApiAnswer = {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
};

function parseAnswer(
  status: number,
  text: string,
  ctx: { shown: string; source: QuerySource | undefined },
): PromValue {
  let body: ApiAnswer | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) body = parsed as ApiAnswer;
  } catch {
    body = undefined;
  }
  const apiError =
    body?.status === "error" && typeof body.error === "string"
      ? oneLine(body.error.replace(/^invalid parameter "query": /, ""))
      : undefined;
  const errorType = typeof body?.errorType === "string" ? body.errorType : undefined;

  if (status === 429 || status >= 500 || errorType === "timeout" || errorType === "canceled") {
    return fail(`Prometheus at ${ctx.shown} answered ${status}${apiError ? ` (${apiError})` : ""}`, {
      kind: "unavailable",
      retryable: true,
      status,
    });
  }
  if ((status === 400 || status === 422) && apiError !== undefined) {
    const what = ctx.source === undefined ? "" : ` for health check "${ctx.source.healthCheck}"`;
    const fix =
      ctx.source === undefined
        ? "fix the PromQL"
        : `fix healthChecks.${ctx.source.healthCheck}.${ctx.source.field ?? "query"} in patchpilot.yaml`;
    const verb = status === 400 ? "rejected the query" : "could not run the query";
    return fail(`Prometheus at ${ctx.shown} ${verb}${what}: ${apiError}; ${fix}`, {
      kind: "rejected",
      retryable: false,
      status,
    });
  }
  if (status < 200 || status >= 300) {
    return fail(
      `Prometheus at ${ctx.shown} answered ${status} to /api/v1/query${apiError ? ` (${apiError})` : ""}; check prometheus.url in patchpilot.yaml points at the Prometheus server (e.g. http://prometheus:9090)`,
      { kind: "bad-answer", retryable: false, status },
    );
  }
  const value = body?.status === "success" ? toPromValue(body.data) : undefined;
  if (value === undefined) {
    const what = body === undefined ? "something that is not JSON" : "JSON that is not a query result";
    return fail(
      `Prometheus at ${ctx.shown} answered ${what}; check prometheus.url in patchpilot.yaml points at the Prometheus server, not a proxy or web page`,
      { kind: "bad-answer", retryable: false, status },
    );
  }
  return value;
}

function fail(message: string, opts: ConstructorParameters<typeof PrometheusError>[1]): never {
  throw new PrometheusError(message, opts);
}

/** Prometheus writes sample values as strings: "1.5", "NaN", "+Inf", "-Inf". */
export function parseSampleValue(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  if (v === "NaN") return Number.NaN;
  if (v === "+Inf" || v === "Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  if (v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
}

function toLabels(v: unknown): Record<string, string> | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") return undefined;
    out[k] = val;
  }
  return out;
}

/** `[<unix seconds>, "<value>"]` → the value. */
function pointValue(p: unknown): number | undefined {
  return Array.isArray(p) && p.length === 2 && typeof p[0] === "number" ? parseSampleValue(p[1]) : undefined;
}

function toPromValue(data: ApiAnswer["data"]): PromValue | undefined {
  const result = data?.result;
  switch (data?.resultType) {
    case "scalar": {
      const value = pointValue(result);
      return value === undefined ? undefined : { type: "scalar", value };
    }
    case "string":
      return Array.isArray(result) && typeof result[1] === "string"
        ? { type: "string", value: result[1] }
        : undefined;
    case "vector": {
      if (!Array.isArray(result)) return undefined;
      const samples: PromSample[] = [];
      for (const r of result as Array<{ metric?: unknown; value?: unknown }>) {
        const labels = toLabels(r?.metric);
        const value = pointValue(r?.value);
        if (labels === undefined || value === undefined) return undefined;
        samples.push({ labels, value });
      }
      return { type: "vector", samples };
    }
    case "matrix": {
      if (!Array.isArray(result)) return undefined;
      const series: Array<{ labels: Record<string, string>; values: number[] }> = [];
      for (const r of result as Array<{ metric?: unknown; values?: unknown }>) {
        const labels = toLabels(r?.metric);
        if (labels === undefined || !Array.isArray(r?.values)) return undefined;
        const values = r.values.map(pointValue);
        if (values.some((v) => v === undefined)) return undefined;
        series.push({ labels, values: values as number[] });
      }
      return { type: "matrix", series };
    }
    default:
      return undefined;
  }
}
