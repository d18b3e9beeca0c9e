import { z } from "zod";
import { tokenAnswerSchema } from "./manifest-schemas.js";
import { parseWwwAuthenticate } from "./parse-www-authenticate.js";
import { RegistryError, type RegistryErrorCode } from "./registry-error.js";

/** One repository on one registry, as the HTTP layer needs it. */
export type Target = {
  /** As written in the reference (`docker.io`); what users configure and what messages name. */
  host: string;
  /** Where requests go (`https://registry-1.docker.io`). */
  baseUrl: string;
  /** Repository path inside the registry (`library/node`). */
  name: string;
  username: string | undefined;
  password: string | undefined;
  /** Plain http allowed (configured insecure, or loopback). */
  insecure: boolean;
};

export type Answer = { status: number; headers: Headers; body: Buffer; tooLarge: boolean };

export type HttpOptions = {
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  maxRetryAfterMs: number;
  fetch: typeof fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
};

type Request = {
  method: "GET" | "HEAD";
  url: string;
  headers: Record<string, string>;
  maxBytes: number;
  /** For messages: `manifest for tag 20`, `the token server`. */
  what: string;
};

const ERROR_BODY_CAP = 64 * 1024;
const CREDENTIALS_HINT = "registries[].usernameEnv / passwordEnv";

function fail(
  code: RegistryErrorCode,
  message: string,
  target: Target,
  extra: { retryable?: boolean; status?: number; retryAfterSeconds?: number } = {},
): RegistryError {
  return new RegistryError(code, message, { host: target.host, repository: target.name, ...extra });
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const raw = headers.get("retry-after")?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

async function readCapped(res: Response, max: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return { body: Buffer.alloc(0), tooLarge: true };
  }
  if (!res.body) return { body: Buffer.alloc(0), tooLarge: false };
  const reader = res.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return { body: Buffer.alloc(0), tooLarge: true };
    }
    chunks.push(Buffer.from(value));
  }
  return { body: Buffer.concat(chunks), tooLarge: false };
}

function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message.slice(0, 80);
  return "connection failed";
}

const registryErrors = z.object({ errors: z.array(z.object({ code: z.string() })).min(1) });

/** The `errors[].code` of a registry error body (`NAME_UNKNOWN`, `MANIFEST_UNKNOWN`…), if any. */
export function registryErrorCodes(body: Buffer): string[] {
  try {
    const parsed = registryErrors.safeParse(JSON.parse(body.toString("utf8")));
    return parsed.success ? parsed.data.errors.map((e) => e.code) : [];
  } catch {
    return [];
  }
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

/**
 * Whether two hosts belong to one site: the same host, or names sharing their last two labels
 * (registry-1.docker.io and auth.docker.io). IP addresses must match exactly.
 */
export function sameSite(a: string, b: string): boolean {
  const x = a.toLowerCase().replace(/\.$/, "");
  const y = b.toLowerCase().replace(/\.$/, "");
  if (x === y) return true;
  const ip = /^[\d.]+$|:/;
  if (ip.test(x) || ip.test(y)) return false;
  const site = (h: string) => h.split(".").slice(-2).join(".");
  return x.includes(".") && y.includes(".") && site(x) === site(y);
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "127.0.0.1" || h === "::1";
}

/** The HTTP layer: timeouts, retries with backoff, the Basic and Bearer token dance, size caps. */
export function createRegistryHttp(opts: HttpOptions) {
  const tokens = new Map<string, { header: string; expiresAt: number }>();
  const basicTargets = new Set<string>();

  /** One request with retries on 429, 5xx, timeouts and connection errors. Other statuses are returned. */
  async function exchange(req: Request, target: Target): Promise<Answer> {
    let attempt = 0;
    for (;;) {
      let error: RegistryError;
      let waitMs: number | undefined;
      try {
        const res = await opts.fetch(req.url, {
          method: req.method,
          headers: req.headers,
          redirect: "follow",
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        const ok = res.status >= 200 && res.status < 300;
        const { body, tooLarge } =
          req.method === "HEAD"
            ? { body: Buffer.alloc(0), tooLarge: false }
            : await readCapped(res, ok ? req.maxBytes : ERROR_BODY_CAP);
        if (req.method === "HEAD") await res.body?.cancel().catch(() => undefined);
        if (res.status === 429) {
          const after = retryAfterMs(res.headers, opts.now());
          const when =
            after === undefined ? "retry in a few minutes" : `retry after ${Math.ceil(after / 1000)} s`;
          error = fail(
            "rate_limited",
            `${target.host} rate limited the request for ${req.what} of ${target.name} (429): ${when}`,
            target,
            {
              retryable: true,
              status: 429,
              ...(after === undefined ? {} : { retryAfterSeconds: Math.ceil(after / 1000) }),
            },
          );
          if (after !== undefined && after > opts.maxRetryAfterMs) throw error;
          waitMs = after;
        } else if (res.status >= 500) {
          error = fail(
            "server_error",
            `${target.host} answered ${res.status} for ${req.what} of ${target.name}: the registry is failing, try again later`,
            target,
            { retryable: true, status: res.status },
          );
        } else {
          return { status: res.status, headers: res.headers, body, tooLarge };
        }
      } catch (err) {
        if (err instanceof RegistryError) throw err;
        const name = (err as { name?: unknown } | null)?.name;
        if (name === "TimeoutError" || name === "AbortError") {
          error = fail(
            "timeout",
            `${target.host} did not answer within ${seconds(opts.timeoutMs)} (timeoutMs) for ${req.what} of ${target.name}`,
            target,
            { retryable: true },
          );
        } else {
          error = fail(
            "unreachable",
            `could not reach ${target.host} for ${target.name} (${networkCause(err)}): check the host name and that the registry is up`,
            target,
            { retryable: true },
          );
        }
      }
      if (attempt >= opts.retries) throw error;
      const backoff = opts.retryBaseMs * 2 ** attempt;
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      await opts.sleep(Math.max(waitMs ?? 0, jittered));
      attempt++;
    }
  }

  function unauthorized(target: Target, detail?: string): RegistryError {
    const hasCreds = target.username !== undefined && target.password !== undefined;
    const advice = hasCreds
      ? `the credentials configured for this registry were refused: check the variables named in patchpilot.yaml (${CREDENTIALS_HINT})`
      : `set credentials for this registry in patchpilot.yaml (${CREDENTIALS_HINT})`;
    return fail(
      "unauthorized",
      `${target.host} answered 401 for ${target.name}${detail ? ` (${detail})` : ""}: ${advice}`,
      target,
      { status: 401 },
    );
  }

  async function fetchToken(target: Target, realm: string, service: string | undefined, scope: string) {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw fail("malformed", `${target.host} asked for a token from an invalid realm URL`, target);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw fail("malformed", `${target.host} asked for a token from a realm that is not http(s)`, target);
    }
    if (service !== undefined) url.searchParams.set("service", service);
    if (scope !== "") url.searchParams.set("scope", scope);
    const headers: Record<string, string> = { accept: "application/json" };
    if (target.username !== undefined && target.password !== undefined) {
      // A registry names its token server; credentials go only to one of the registry's own
      // (auth.docker.io for registry-1.docker.io, gitlab.com for registry.gitlab.com), never to
      // whatever host a compromised or misconfigured registry names.
      if (!sameSite(new URL(target.baseUrl).hostname, url.hostname)) {
        throw fail(
          "unauthorized",
          `${target.host} sent its token request to ${url.host}, which is not part of ${target.host}; patchpilot does not send this registry's credentials there`,
          target,
        );
      }
      if (url.protocol === "http:" && !target.insecure && !isLoopbackHost(url.hostname)) {
        throw fail(
          "unauthorized",
          `${target.host} asked for credentials over plain http (token server ${url.host}); refusing to send them. Mark the registry insecure in patchpilot.yaml only if that is intended`,
          target,
        );
      }
      headers.authorization = basicHeader(target.username, target.password);
    }
    const what = `a token (token server ${url.host})`;
    const answer = await exchange(
      { method: "GET", url: url.href, headers, maxBytes: 256 * 1024, what },
      target,
    );
    if (answer.status === 401 || answer.status === 403) {
      throw unauthorized(target, `token server ${url.host} answered ${answer.status}`);
    }
    if (answer.status !== 200) {
      throw fail(
        "server_error",
        `the token server ${url.host} for ${target.host} answered ${answer.status} for ${target.name}`,
        target,
        { status: answer.status },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(answer.body.toString("utf8"));
    } catch {
      throw fail("malformed", `the token server ${url.host} for ${target.host} did not answer JSON`, target);
    }
    const parsed = tokenAnswerSchema.safeParse(json);
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!parsed.success || token === undefined) {
      throw fail(
        "malformed",
        `the token server ${url.host} for ${target.host} answered without a token or access_token`,
        target,
      );
    }
    // Registries default to 60 s; renew a little early so a token never expires mid-request.
    const lifetimeMs = (parsed.data.expires_in ?? 60) * 1000;
    return { header: `Bearer ${token}`, expiresAt: opts.now() + Math.max(lifetimeMs - 5000, lifetimeMs / 2) };
  }

  /**
   * A GET or HEAD to the registry with the Accept list; answers 401 with a Bearer challenge by
   * fetching a token (cached per host and scope) and trying once more, and Basic challenges with
   * the configured credentials. A second 401 is final.
   */
  async function send(
    target: Target,
    method: "GET" | "HEAD",
    path: string,
    extra: { accept?: string; maxBytes: number; what: string },
  ): Promise<Answer> {
    const url = `${target.baseUrl}/v2/${target.name}/${path}`;
    const base: Record<string, string> = extra.accept ? { accept: extra.accept } : {};
    const defaultScope = `repository:${target.name}:pull`;
    const cacheKey = (scope: string) => `${target.baseUrl} ${scope}`;
    const request = (auth: string | undefined) =>
      exchange(
        {
          method,
          url,
          headers: auth ? { ...base, authorization: auth } : base,
          maxBytes: extra.maxBytes,
          what: extra.what,
        },
        target,
      );
    const hasCreds = target.username !== undefined && target.password !== undefined;

    let cached: string | undefined;
    const token = tokens.get(cacheKey(defaultScope));
    if (token && token.expiresAt > opts.now()) cached = token.header;
    else if (hasCreds && basicTargets.has(target.baseUrl)) {
      cached = basicHeader(target.username as string, target.password as string);
    }
    const first = await request(cached);
    if (first.status !== 401) return first;
    if (cached) tokens.delete(cacheKey(defaultScope));

    const challenges = parseWwwAuthenticate(first.headers.get("www-authenticate") ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer" && (c.params.get("realm") ?? "") !== "");
    let auth: string;
    if (bearer) {
      const scope = bearer.params.get("scope") ?? defaultScope;
      const fresh = await fetchToken(
        target,
        bearer.params.get("realm") as string,
        bearer.params.get("service"),
        scope,
      );
      if (tokens.size > 1000) {
        for (const [key, value] of tokens) if (value.expiresAt <= opts.now()) tokens.delete(key);
      }
      tokens.set(cacheKey(scope), fresh);
      if (scope !== defaultScope) tokens.set(cacheKey(defaultScope), fresh);
      auth = fresh.header;
    } else if (challenges.some((c) => c.scheme === "basic")) {
      if (!hasCreds) throw unauthorized(target);
      basicTargets.add(target.baseUrl);
      auth = basicHeader(target.username as string, target.password as string);
    } else {
      throw unauthorized(target, "without a Bearer or Basic challenge");
    }
    const second = await request(auth);
    if (second.status === 401) throw unauthorized(target);
    return second;
  }

  return { send, fail };
}

export type RegistryHttp = ReturnType<typeof createRegistryHttp>;
