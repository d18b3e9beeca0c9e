import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createRegistryClient,
  type RegistryClientOptions,
  RegistryError,
} from "../../src/adapters/registry/registry-client.js";
import { sameSite } from "../../src/adapters/registry/registry-http.js";

/**
 * A small misbehaving registry on a loopback port: each test scripts the answers. Requests are
 * recorded so tests can count retries.
 */
type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const sha = (bytes: string | Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

let server: Server | undefined;
let calls: Array<{ method: string; url: string; at: number; authorization: string | undefined }> = [];

async function fake(handler: Handler): Promise<string> {
  calls = [];
  server = createServer((req, res) => {
    calls.push({
      method: req.method ?? "",
      url: req.url ?? "",
      at: Date.now(),
      authorization: req.headers.authorization,
    });
    handler(req, res, calls.length);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    server = undefined;
  }
});

function client(extra: Partial<RegistryClientOptions> = {}) {
  return createRegistryClient({ retryBaseMs: 20, ...extra });
}

async function caught(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

/** A valid image: manifest + config, served by tag and by digest. */
function image(diffIds: string[] = [`sha256:${"a".repeat(64)}`]) {
  const config = JSON.stringify({
    os: "linux",
    architecture: "amd64",
    rootfs: { type: "layers", diff_ids: diffIds },
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: sha(config),
      size: config.length,
    },
    layers: [],
  });
  return { config, manifest, digest: sha(manifest), configDigest: sha(config) };
}

function serveImage(img: ReturnType<typeof image>, req: IncomingMessage, res: ServerResponse): void {
  if (req.url?.includes("/blobs/")) {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(img.config);
    return;
  }
  res.writeHead(200, { "content-type": OCI_MANIFEST, "docker-content-digest": img.digest });
  res.end(req.method === "HEAD" ? undefined : img.manifest);
}

describe("retries", () => {
  it("waits out a 429's Retry-After, then succeeds", async () => {
    const img = image();
    const host = await fake((req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { "retry-after": "1" });
        res.end();
        return;
      }
      serveImage(img, req, res);
    });
    const resolved = await client().resolve(`${host}/team/app:1`);
    expect(resolved.digest).toBe(img.digest);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("does not wait out a Retry-After beyond the cap: says when to retry", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(429, { "retry-after": "120" });
      res.end();
    });
    const err = await caught(client({ maxRetryAfterMs: 5000 }).resolve(`${host}/team/app:1`));
    expect(err).toMatchObject({ code: "rate_limited", retryable: true, retryAfterSeconds: 120, status: 429 });
    expect(err.message).toContain("rate limited");
    expect(err.message).toContain("retry after 120 s");
    expect(calls).toHaveLength(1);
  });

  it("retries 500 twice, then succeeds", async () => {
    const img = image();
    const host = await fake((req, res, n) => {
      if (n <= 2) {
        res.writeHead(500);
        res.end();
        return;
      }
      serveImage(img, req, res);
    });
    expect((await client().resolve(`${host}/team/app:1`)).digest).toBe(img.digest);
    expect(calls).toHaveLength(3);
  });

  it("gives up after `retries` on a registry that keeps failing", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const err = await caught(client({ retries: 1 }).resolve(`${host}/team/app:1`));
    expect(err).toMatchObject({ code: "server_error", retryable: true, status: 503 });
    expect(err.message).toContain(`${host} answered 503`);
    expect(calls).toHaveLength(2);
  });

  it("names the timeout when the registry is too slow", async () => {
    const host = await fake((_req, res) => {
      setTimeout(() => {
        if (!res.destroyed) res.end();
      }, 3000);
    });
    const err = await caught(client({ timeoutMs: 200, retries: 1 }).resolve(`${host}/team/app:1`));
    expect(err).toMatchObject({ code: "timeout", retryable: true });
    expect(err.message).toContain("did not answer within 200 ms (timeoutMs)");
    expect(calls).toHaveLength(2);
  });

  it("does not retry a 404", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "NAME_UNKNOWN" }] }));
    });
    const err = await caught(client().inspect(`${host}/team/app:1`, "linux/amd64"));
    expect(err.code).toBe("not_found");
    expect(calls).toHaveLength(1);
  });

  it("reports a closed port as unreachable", async () => {
    const host = await fake((_req, res) => res.end());
    await new Promise<void>((r) => server?.close(() => r()));
    server = undefined;
    const err = await caught(client({ retries: 0 }).resolve(`${host}/team/app:1`));
    expect(err).toMatchObject({ code: "unreachable", retryable: true });
    expect(err.message).toContain("ECONNREFUSED");
  });
});

describe("authentication", () => {
  it("does not retry a 401 that follows a fresh token", async () => {
    let port = 0;
    const host = await fake((req, res) => {
      if (req.url?.startsWith("/token")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ token: "fake-token-1" }));
        return;
      }
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="x"` });
      res.end();
    });
    port = Number(host.split(":")[1]);
    const err = await caught(client().resolve(`${host}/team/app:1`));
    expect(err.code).toBe("unauthorized");
    expect(err.message).not.toContain("fake-token-1");
    expect(calls.map((c) => c.url.split("?")[0])).toEqual([
      "/v2/team/app/manifests/1",
      "/token",
      "/v2/team/app/manifests/1",
    ]);
  });

  /** Registry + token server in one: accepts only the latest token issued. */
  async function tokenRegistry(expiresIn: number) {
    const img = image();
    let issued = 0;
    let port = 0;
    const host = await fake((req, res) => {
      if (req.url?.startsWith("/token")) {
        issued++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: `fake-token-${issued}`, expires_in: expiresIn }));
        return;
      }
      if (req.headers.authorization !== `Bearer fake-token-${issued}`) {
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="x"`,
        });
        res.end();
        return;
      }
      serveImage(img, req, res);
    });
    port = Number(host.split(":")[1]);
    return {
      host,
      revoke: () => {
        issued++;
      },
    };
  }

  it("fetches a new token when the cached one is refused", async () => {
    const reg = await tokenRegistry(300);
    const c = client();
    await c.resolve(`${reg.host}/team/app:1`);
    await c.resolve(`${reg.host}/team/app:1`);
    expect(calls.filter((call) => call.url.startsWith("/token"))).toHaveLength(1);
    reg.revoke();
    await c.resolve(`${reg.host}/team/app:1`);
    expect(calls.filter((call) => call.url.startsWith("/token"))).toHaveLength(2);
  });

  it("fetches a new token once expires_in has passed", async () => {
    const reg = await tokenRegistry(1);
    const c = client();
    await c.resolve(`${reg.host}/team/app:1`);
    await new Promise((r) => setTimeout(r, 1100));
    const before = calls.length;
    await c.resolve(`${reg.host}/team/app:1`);
    // The expired token is not sent: the request goes out bare, meets the challenge, gets a new one.
    expect(calls.slice(before).map((call) => [call.url.split("?")[0], call.authorization])).toEqual([
      ["/v2/team/app/manifests/1", undefined],
      ["/token", undefined],
      ["/v2/team/app/manifests/1", "Bearer fake-token-2"],
    ]);
  });

  it("answers a Basic challenge with the configured credentials", async () => {
    const img = image();
    const expected = `Basic ${Buffer.from("bot:pw-not-real").toString("base64")}`;
    const host = await fake((req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="Registry Realm", charset="UTF-8"' });
        res.end();
        return;
      }
      serveImage(img, req, res);
    });
    const c = client({ registries: [{ host, username: "bot", password: "pw-not-real" }] });
    expect((await c.inspect(`${host}/team/app:1`, "linux/amd64")).configDigest).toBe(img.configDigest);
    // Later requests send the credentials straight away.
    expect(calls.slice(2).every((call) => call.authorization === expected)).toBe(true);
    const anonymous = await caught(client().resolve(`${host}/team/app:1`));
    expect(anonymous.code).toBe("unauthorized");
  });

  it("says which code a 403 means", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(403);
      res.end();
    });
    const err = await caught(client().resolve(`${host}/team/app:1`));
    expect(err.code).toBe("forbidden");
    expect(err.message).toContain("answered 403 for team/app");
  });
});

describe("untrustworthy answers", () => {
  it("refuses a manifest that is not JSON", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST });
      res.end("{not json");
    });
    const err = await caught(client().inspect(`${host}/team/app:1`, "linux/amd64"));
    expect(err).toMatchObject({ code: "malformed", retryable: false });
    expect(err.message).toContain("is not valid JSON");
  });

  it("refuses a manifest whose bytes do not match Docker-Content-Digest", async () => {
    const img = image();
    const host = await fake((req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST, "docker-content-digest": sha("something else") });
      res.end(req.method === "HEAD" ? undefined : img.manifest);
    });
    const err = await caught(client().inspect(`${host}/team/app:1`, "linux/amd64"));
    expect(err.code).toBe("malformed");
    expect(err.message).toContain("does not match its digest");
    expect(calls).toHaveLength(1);
  });

  it("refuses a config blob whose bytes do not match its digest", async () => {
    const img = image();
    const host = await fake((req, res) => {
      if (req.url?.includes("/blobs/")) {
        res.writeHead(200);
        res.end(img.config.replace("amd64", "arm64"));
        return;
      }
      serveImage(img, req, res);
    });
    const err = await caught(client().inspect(`${host}/team/app:1`, "linux/amd64"));
    expect(err.code).toBe("malformed");
    expect(err.message).toContain(`does not match its digest ${img.configDigest}`);
  });

  it("names what is missing from a config", async () => {
    const config = JSON.stringify({ os: "linux", architecture: "amd64", rootfs: { type: "layers" } });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha(config),
        size: config.length,
      },
      layers: [],
    });
    const host = await fake((req, res) => {
      res.writeHead(200);
      res.end(req.url?.includes("/blobs/") ? config : manifest);
    });
    const err = await caught(client().inspect(`${host}/team/app:1`, "linux/amd64"));
    expect(err.code).toBe("malformed");
    expect(err.message).toContain("rootfs.diff_ids");
  });

  it("refuses schema 1 manifests with a clear message", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws" });
      res.end(JSON.stringify({ schemaVersion: 1, name: "team/app", tag: "1", fsLayers: [] }));
    });
    const err = await caught(client().inspect(`${host}/team/app:1`, "linux/amd64"));
    expect(err.code).toBe("malformed");
    expect(err.message).toContain("Docker schema 1 manifest");
  });

  it("refuses a manifest over 4 MiB", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST });
      res.end(Buffer.alloc(5 * 1024 * 1024, 0x20));
    });
    const err = await caught(client().inspect(`${host}/team/app:1`, "linux/amd64"));
    expect(err.code).toBe("malformed");
    expect(err.message).toContain("larger than 4 MiB");
  });

  it("falls back to GET when HEAD has no Docker-Content-Digest, and hashes the bytes itself", async () => {
    const img = image();
    const host = await fake((req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST });
      res.end(req.method === "HEAD" ? undefined : img.manifest);
    });
    expect(await client().resolve(`${host}/team/app:1`)).toEqual({
      digest: img.digest,
      mediaType: OCI_MANIFEST,
    });
    expect(calls.map((c) => c.method)).toEqual(["HEAD", "GET"]);
  });
});

describe("where requests go", () => {
  function recordingFetch(urls: string[]): typeof fetch {
    return async (input) => {
      urls.push(String(input));
      return new Response(null, { status: 404 });
    };
  }

  it.each([
    ["node:20", "https://registry-1.docker.io/v2/library/node/manifests/20"],
    ["docker.io/library/node", "https://registry-1.docker.io/v2/library/node/manifests/latest"],
    ["ghcr.io/acme/app:1.2", "https://ghcr.io/v2/acme/app/manifests/1.2"],
    ["localhost:5000/app:1", "http://localhost:5000/v2/app/manifests/1"],
    ["127.0.0.1:5000/app:1", "http://127.0.0.1:5000/v2/app/manifests/1"],
    ["registry.lan:5000/app:1", "http://registry.lan:5000/v2/app/manifests/1"],
  ])("%s → %s", async (ref, url) => {
    const urls: string[] = [];
    const c = createRegistryClient({
      fetch: recordingFetch(urls),
      retries: 0,
      registries: [{ host: "registry.lan:5000", insecure: true }],
    });
    await caught(c.resolve(ref));
    expect(urls[0]).toBe(url);
  });

  it("rejects what is not an image reference", async () => {
    const err = await caught(createRegistryClient().resolve("Not A Ref"));
    expect(err.code).toBe("bad_reference");
    const platform = await caught(createRegistryClient().inspect("node:20", "amd64"));
    expect(platform.code).toBe("bad_reference");
    expect(platform.message).toContain("os/arch[/variant]");
  });
});

describe("credentials and foreign token servers", () => {
  it("never sends a registry's credentials to a token server on another host", async () => {
    // The registry names a realm on a different host (localhost is not 127.0.0.1): a registry that
    // could do this could collect every pull secret patchpilot holds.
    const host = await fake((req, res) => {
      if ((req.url ?? "").startsWith("/token")) {
        res.writeHead(200, { "content-type": "application/json" }).end('{"token":"t"}');
        return;
      }
      const port = (req.socket.localPort ?? 0).toString();
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="http://localhost:${port}/token",service="x",scope="repository:app:pull"`,
        })
        .end();
    });
    const err = await caught(
      client({ registries: [{ host, username: "ci-bot", password: "pw-not-real-9c1d" }] }).resolve(
        `${host}/app:1`,
      ),
    );
    expect(err.code).toBe("unauthorized");
    expect(err.message).toContain(`does not send this registry's credentials there`);
    expect(err.message).not.toContain("pw-not-real");
    expect(calls.filter((c) => c.url.startsWith("/token"))).toHaveLength(0);
    expect(calls.every((c) => c.authorization === undefined)).toBe(true);
  });
});

describe("sameSite", () => {
  it.each([
    ["registry-1.docker.io", "auth.docker.io", true],
    ["ghcr.io", "ghcr.io", true],
    ["registry.gitlab.com", "gitlab.com", true],
    ["registry.example.com", "evil.example.net", false],
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.1", "localhost", false],
    ["10.0.0.5", "10.0.0.6", false],
  ])("%s and %s → %s", (a, b, expected) => {
    expect(sameSite(a, b)).toBe(expected);
  });
});
