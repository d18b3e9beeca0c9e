import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A real CNCF distribution registry (Debian's `docker-registry`) on a loopback port, with a small
 * proxy in front that records requests and, with `bearer: true`, demands tokens from a local
 * token server the way Docker Hub and GHCR do. Push helpers talk straight to the registry.
 */

export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

export type ManifestFormat = "oci" | "docker";

export type ImageSpec = {
  diffIds: string[];
  /** ISO time; default 2024-01-01T00:00:00Z. */
  created?: string;
  /** `os/arch[/variant]`; default linux/amd64. */
  platform?: string;
  /** Default "oci". */
  format?: ManifestFormat;
};

export type PushedImage = { digest: string; configDigest: string; diffIds: string[]; platform: string };

export type RegistryRequest = {
  method: string;
  path: string;
  /** What the request carried. */
  auth: "none" | "bearer" | "basic";
  status: number;
};

export type TokenRequest = {
  scope: string | null;
  service: string | null;
  auth: "none" | "basic";
  status: number;
};

export type TestRegistry = {
  /** `127.0.0.1:port` of the front (the proxy): use it in image references. */
  host: string;
  /** `http://127.0.0.1:port` of the front. */
  url: string;
  /** The registry itself, bypassing the proxy and its auth. */
  registryUrl: string;
  /** Every request the front received, in order. */
  requestLog: RegistryRequest[];
  /** Every request the token server received (bearer mode). */
  tokenRequests: TokenRequest[];
  uploadBlob(repo: string, bytes: Buffer): Promise<string>;
  /** PUT a manifest under a tag or digest; returns the digest the registry stored. */
  putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<string>;
  /** Config + layers + manifest; `tag` null pushes by digest only. */
  pushImage(repo: string, tag: string | null, spec: ImageSpec): Promise<PushedImage>;
  /** Platform manifests by digest, then an index (or Docker manifest list) under `tag`. */
  pushIndex(
    repo: string,
    tag: string,
    images: Array<{ platform: string; diffIds: string[]; created?: string }>,
    opts?: { format?: ManifestFormat; attestation?: boolean },
  ): Promise<{ digest: string; manifests: PushedImage[] }>;
  /** Points `tag` at an already pushed manifest. */
  moveTag(repo: string, tag: string, digest: string): Promise<void>;
  stop(): Promise<void>;
};

export type StartRegistryOptions = {
  /** Front demands a Bearer token from the local token server. */
  bearer?: boolean;
  /** Token server demands these (Basic); without them it gives tokens to anyone. */
  credentials?: { username: string; password: string };
  /** Field the token server answers with; default "token". */
  tokenField?: "token" | "access_token";
  /** Token lifetime the token server announces; default 300 s. */
  expiresInSeconds?: number;
};

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

function authKind(header: string | undefined): "none" | "bearer" | "basic" {
  if (!header) return "none";
  if (/^bearer /i.test(header)) return "bearer";
  if (/^basic /i.test(header)) return "basic";
  return "none";
}

function repoOfPath(path: string): string | null {
  const m = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(path.split("?")[0] ?? "");
  return m?.[1] ?? null;
}

async function startProcess(port: number, dir: string): Promise<ChildProcess> {
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "",
  ].join("\n");
  const configPath = join(dir, "config.yml");
  await writeFile(configPath, config);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REGISTRY_")));
  const child = spawn("docker-registry", ["serve", configPath], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString("utf8")).slice(-2000);
  });
  let exited: string | null = null;
  child.on("error", (err: NodeJS.ErrnoException) => {
    exited =
      err.code === "ENOENT"
        ? "docker-registry is not installed (Debian: apt-get install docker-registry)"
        : `docker-registry failed to start: ${err.message}`;
  });
  child.on("exit", (code, signal) => {
    exited ??= `docker-registry exited (${code ?? signal}): ${stderr.trim()}`;
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(exited);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`docker-registry did not answer GET /v2/ within 15 s: ${stderr.trim()}`);
    }
    await sleep(50);
  }
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "pp-registry-"));
  const backendPort = await freePort();
  let child: ChildProcess;
  try {
    child = await startProcess(backendPort, dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const registryUrl = `http://127.0.0.1:${backendPort}`;
  const requestLog: RegistryRequest[] = [];
  const tokenRequests: TokenRequest[] = [];
  /** token → repositories it may pull. */
  const issued = new Map<string, Set<string>>();

  const tokenServer = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scope = url.searchParams.get("scope");
    const service = url.searchParams.get("service");
    const header = req.headers.authorization;
    const auth = authKind(header) === "basic" ? "basic" : "none";
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      tokenRequests.push({ scope, service, auth, status });
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    if (opts.credentials) {
      const expected = `Basic ${Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString("base64")}`;
      if (header !== expected) {
        answer(
          401,
          { details: "incorrect username or password" },
          { "www-authenticate": 'Basic realm="pp-test"' },
        );
        return;
      }
    }
    const token = `pp-test-token-${randomBytes(12).toString("hex")}`;
    const repos = new Set<string>();
    for (const s of (scope ?? "").split(" ")) {
      const m = /^repository:(.+):([a-z,*]+)$/.exec(s);
      if (m?.[1] && m[2]?.split(",").includes("pull")) repos.add(m[1]);
    }
    issued.set(token, repos);
    answer(200, { [opts.tokenField ?? "token"]: token, expires_in: opts.expiresInSeconds ?? 300 });
  });
  const tokenPort = await listen(tokenServer);

  const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/";
    const header = req.headers.authorization;
    const entry: RegistryRequest = { method: req.method ?? "GET", path, auth: authKind(header), status: 0 };
    requestLog.push(entry);
    const repo = repoOfPath(path);
    if (opts.bearer) {
      const token = header?.replace(/^bearer /i, "");
      const allowed = token !== undefined && entry.auth === "bearer" ? issued.get(token) : undefined;
      if (!allowed || (repo !== null && !allowed.has(repo))) {
        entry.status = 401;
        const scope = repo === null ? "" : `,scope="repository:${repo}:pull"`;
        res.writeHead(401, {
          "content-type": "application/json",
          "www-authenticate": `Bearer realm="http://127.0.0.1:${tokenPort}/token",service="pp-test-registry"${scope}`,
        });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
        return;
      }
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    headers.host = `127.0.0.1:${backendPort}`;
    const upstream = httpRequest(
      { host: "127.0.0.1", port: backendPort, method: req.method, path, headers },
      (up) => {
        entry.status = up.statusCode ?? 0;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  const proxyPort = await listen(proxy);

  async function expectStatus(res: Response, status: number, what: string): Promise<void> {
    if (res.status !== status) {
      throw new Error(`${what}: registry answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
    }
  }

  async function uploadBlob(repo: string, bytes: Buffer): Promise<string> {
    const digest = sha256(bytes);
    const head = await fetch(`${registryUrl}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
    if (head.status === 200) return digest;
    const start = await fetch(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    await expectStatus(start, 202, `start upload to ${repo}`);
    await start.body?.cancel();
    const location = new URL(start.headers.get("location") ?? "", registryUrl);
    location.searchParams.set("digest", digest);
    const put = await fetch(location, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    await expectStatus(put, 201, `upload blob to ${repo}`);
    await put.body?.cancel();
    return digest;
  }

  async function putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer) {
    const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
      method: "PUT",
      headers: { "content-type": mediaType },
      body: bytes,
    });
    await expectStatus(res, 201, `put manifest ${repo}:${reference}`);
    await res.body?.cancel();
    return res.headers.get("docker-content-digest") ?? sha256(bytes);
  }

  async function pushImage(repo: string, tag: string | null, spec: ImageSpec): Promise<PushedImage> {
    const platform = spec.platform ?? "linux/amd64";
    const [os, architecture, variant] = platform.split("/");
    const docker = spec.format === "docker";
    const config = Buffer.from(
      JSON.stringify({
        architecture,
        os,
        ...(variant ? { variant } : {}),
        created: spec.created ?? "2024-01-01T00:00:00Z",
        config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"] },
        rootfs: { type: "layers", diff_ids: spec.diffIds },
        history: spec.diffIds.map(() => ({ created_by: "test layer" })),
      }),
    );
    const configDigest = await uploadBlob(repo, config);
    const layers = [];
    for (const diffId of spec.diffIds) {
      const bytes = Buffer.from(`layer bytes for ${diffId}`);
      layers.push({
        mediaType: docker ? MEDIA.dockerLayer : MEDIA.ociLayer,
        digest: await uploadBlob(repo, bytes),
        size: bytes.length,
      });
    }
    const mediaType = docker ? MEDIA.dockerManifest : MEDIA.ociManifest;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: {
          mediaType: docker ? MEDIA.dockerConfig : MEDIA.ociConfig,
          digest: configDigest,
          size: config.length,
        },
        layers,
      }),
    );
    const digest = await putManifest(repo, tag ?? sha256(manifest), mediaType, manifest);
    return { digest, configDigest, diffIds: spec.diffIds, platform };
  }

  async function pushIndex(
    repo: string,
    tag: string,
    images: Array<{ platform: string; diffIds: string[]; created?: string }>,
    opts: { format?: ManifestFormat; attestation?: boolean } = {},
  ) {
    const format = opts.format ?? "oci";
    const manifests: PushedImage[] = [];
    const entries = [];
    for (const image of images) {
      const pushed = await pushImage(repo, null, { ...image, format });
      manifests.push(pushed);
      const [os, architecture, variant] = image.platform.split("/");
      const body = await fetch(`${registryUrl}/v2/${repo}/manifests/${pushed.digest}`, {
        headers: { accept: format === "docker" ? MEDIA.dockerManifest : MEDIA.ociManifest },
      });
      const size = (await body.arrayBuffer()).byteLength;
      entries.push({
        mediaType: format === "docker" ? MEDIA.dockerManifest : MEDIA.ociManifest,
        digest: pushed.digest,
        size,
        platform: { architecture, os, ...(variant ? { variant } : {}) },
      });
    }
    if (opts.attestation) {
      // What buildx adds for provenance: an image manifest for platform unknown/unknown.
      const statement = await uploadBlob(
        repo,
        Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v0.1" })),
      );
      const config = await uploadBlob(repo, Buffer.from("{}"));
      const attestation = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.ociManifest,
          config: { mediaType: MEDIA.ociConfig, digest: config, size: 2 },
          layers: [{ mediaType: "application/vnd.in-toto+json", digest: statement, size: 1 }],
        }),
      );
      const digest = await putManifest(repo, sha256(attestation), MEDIA.ociManifest, attestation);
      entries.push({
        mediaType: MEDIA.ociManifest,
        digest,
        size: attestation.length,
        platform: { architecture: "unknown", os: "unknown" },
        annotations: {
          "vnd.docker.reference.digest": entries[0]?.digest ?? "",
          "vnd.docker.reference.type": "attestation-manifest",
        },
      });
    }
    const mediaType = format === "docker" ? MEDIA.dockerList : MEDIA.ociIndex;
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests: entries }));
    const digest = await putManifest(repo, tag, mediaType, index);
    return { digest, manifests };
  }

  async function moveTag(repo: string, tag: string, digest: string): Promise<void> {
    const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${digest}`, {
      headers: {
        accept: [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(", "),
      },
    });
    await expectStatus(res, 200, `get manifest ${repo}@${digest}`);
    const mediaType = res.headers.get("content-type") ?? MEDIA.ociManifest;
    await putManifest(repo, tag, mediaType, Buffer.from(await res.arrayBuffer()));
  }

  async function stop(): Promise<void> {
    proxy.closeAllConnections();
    tokenServer.closeAllConnections();
    await Promise.all([
      new Promise<void>((r) => proxy.close(() => r())),
      new Promise<void>((r) => tokenServer.close(() => r())),
    ]);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  }

  return {
    host: `127.0.0.1:${proxyPort}`,
    url: `http://127.0.0.1:${proxyPort}`,
    registryUrl,
    requestLog,
    tokenRequests,
    uploadBlob,
    putManifest,
    pushImage,
    pushIndex,
    moveTag,
    stop,
  };
}
