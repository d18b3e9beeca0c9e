import { createHash } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { z } from "zod";
import { parseImageRef } from "../../core/scan/normalize-image-ref.js";
import {
  describeIssues,
  type ImageManifest,
  type IndexManifest,
  imageConfigSchema,
  imageManifestSchema,
  indexSchema,
  MANIFEST_ACCEPT,
  MEDIA_TYPES,
  SCHEMA1_MEDIA_TYPES,
} from "./manifest-schemas.js";
import { formatPlatform, type Platform, parsePlatform, samePlatform } from "./platform.js";
import { RegistryError } from "./registry-error.js";
import { type Answer, createRegistryHttp, registryErrorCodes, type Target } from "./registry-http.js";

export { type AuthChallenge, parseWwwAuthenticate } from "./parse-www-authenticate.js";
export { RegistryError, type RegistryErrorCode } from "./registry-error.js";

export type RegistryCredentials = { host: string; username?: string; password?: string; insecure?: boolean };

export type RegistryClientOptions = {
  /** Per-host credentials and the plain-http (insecure) flag; hosts match Docker Hub aliases. */
  registries?: RegistryCredentials[];
  /** Per request (including reading the body); default 10 s. */
  timeoutMs?: number;
  /** Retries after the first try, for 429, 5xx, timeouts and connection errors; default 2. */
  retries?: number;
  /** First backoff step; doubles each retry, with jitter. Default 500 ms. */
  retryBaseMs?: number;
  /** A 429 asking to wait longer than this fails at once (rate_limited) instead; default 30 s. */
  maxRetryAfterMs?: number;
  /** For tests only. */
  fetch?: typeof fetch;
};

export type ResolvedRef = { digest: string; mediaType: string };

export type ImageInspection = {
  /** Normalised as `parseImageRef` does: `docker.io/library/node`. */
  repository: string;
  /** What the reference points to: the index digest for a multi-platform tag. */
  digest: string;
  /** The platform's image manifest. */
  manifestDigest: string;
  configDigest: string;
  /** `rootfs.diff_ids` of the image config, bottom layer first. */
  diffIds: string[];
  /** The config's `created`, or null when absent or unreadable. */
  created: Date | null;
  /** The platform that was picked, as the registry wrote it (`linux/arm64/v8`). */
  platform: string;
};

export type RegistryClient = {
  /** HEAD /v2/<name>/manifests/<ref> with the full Accept list; falls back to GET when HEAD gives no Docker-Content-Digest. */
  resolve(ref: string): Promise<ResolvedRef>;
  /** Tag/digest → the platform's image manifest → image config. Follows an OCI index / Docker manifest list to `platform`. */
  inspect(ref: string, platform: string): Promise<ImageInspection>;
};

export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
export const CONFIG_MAX_BYTES = 8 * 1024 * 1024;

const DOCKER_HUB = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
]);
const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const HASHES: Record<string, string> = { sha256: "sha256", sha512: "sha512" };

function hostKey(host: string): string {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, "")
    .replace(/\/+$/, "");
  return DOCKER_HUB.has(h) ? "docker.io" : h;
}

function isLoopback(host: string): boolean {
  const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? "");
  return ["localhost", "127.0.0.1", "[::1]"].includes(hostname);
}

type Parsed = { target: Target; repository: string; reference: string; byDigest: boolean; shown: string };

type Fetched =
  | { kind: "index"; digest: string; mediaType: string; doc: IndexManifest }
  | { kind: "manifest"; digest: string; mediaType: string; doc: ImageManifest };

/** `sha256:…` of the bytes with the algorithm named by `like` (a digest); null when that is unknown. */
function digestOf(bytes: Buffer, like: string): string | null {
  const algo = HASHES[like.split(":")[0] ?? ""];
  if (!algo) return null;
  return `${algo}:${createHash(algo).update(bytes).digest("hex")}`;
}

function baseMediaType(contentType: string | null): string | undefined {
  const base = contentType?.split(";")[0]?.trim().toLowerCase();
  return base ? base : undefined;
}

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  const credentials = new Map<string, RegistryCredentials>();
  for (const r of opts.registries ?? []) credentials.set(hostKey(r.host), r);
  const http = createRegistryHttp({
    timeoutMs: opts.timeoutMs ?? 10_000,
    retries: opts.retries ?? 2,
    retryBaseMs: opts.retryBaseMs ?? 500,
    maxRetryAfterMs: opts.maxRetryAfterMs ?? 30_000,
    fetch: opts.fetch ?? globalThis.fetch,
    now: Date.now,
    sleep: (ms) => delay(ms),
  });

  function parse(ref: string): Parsed {
    const parsed = parseImageRef(ref);
    if (!parsed) {
      throw new RegistryError(
        "bad_reference",
        `"${ref.slice(0, 200)}" is not a valid image reference (expected e.g. registry.example.com/team/app:1.2 or node:20)`,
        { host: "", repository: "" },
      );
    }
    const slash = parsed.repository.indexOf("/");
    const host = parsed.repository.slice(0, slash);
    const name = parsed.repository.slice(slash + 1);
    const creds = credentials.get(hostKey(host));
    const insecure = creds?.insecure === true || isLoopback(host);
    const apiHost = host === "docker.io" ? "registry-1.docker.io" : host;
    const reference = parsed.digest ?? parsed.tag ?? "latest";
    return {
      target: {
        host,
        baseUrl: `${insecure ? "http" : "https"}://${apiHost}`,
        name,
        username: creds?.username,
        password: creds?.password,
        insecure,
      },
      repository: parsed.repository,
      reference,
      byDigest: parsed.digest !== null,
      shown: parsed.digest !== null ? `manifest ${parsed.digest}` : `tag ${reference}`,
    };
  }

  function failed(p: Parsed, answer: Answer, what: string): RegistryError {
    const t = p.target;
    const status = answer.status;
    const codes = registryErrorCodes(answer.body);
    if (status === 404) {
      const message = codes.includes("NAME_UNKNOWN")
        ? `repository ${t.name} does not exist on ${t.host}: check the image name`
        : `${what} does not exist in ${t.host}/${t.name} (or the repository does not exist): check the image name and tag`;
      return http.fail("not_found", message, t, { status });
    }
    if (status === 403) {
      const advice =
        t.username !== undefined
          ? "the configured credentials may not pull this repository: check their permissions"
          : "set credentials for this registry in patchpilot.yaml (registries[].usernameEnv / passwordEnv)";
      return http.fail("forbidden", `${t.host} answered 403 for ${t.name}: ${advice}`, t, { status });
    }
    if (
      status === 400 &&
      codes.some((c) => c === "NAME_INVALID" || c === "TAG_INVALID" || c === "DIGEST_INVALID")
    ) {
      return http.fail("bad_reference", `${t.host} rejected the reference ${t.name} ${what} as invalid`, t, {
        status,
      });
    }
    return http.fail("server_error", `${t.host} answered ${status} for ${what} of ${t.name}`, t, { status });
  }

  /**
   * Most registries answer MANIFEST_UNKNOWN for a missing tag whether or not the repository exists;
   * the tag list tells the two apart, so the message can say which name is wrong.
   */
  async function tagNotFound(p: Parsed, tag: string): Promise<RegistryError> {
    const t = p.target;
    let repoExists: boolean | undefined;
    try {
      const tags = await http.send(t, "GET", "tags/list?n=1", { maxBytes: 64 * 1024, what: "the tag list" });
      if (tags.status === 200) repoExists = true;
      else if (tags.status === 404 && registryErrorCodes(tags.body).includes("NAME_UNKNOWN"))
        repoExists = false;
    } catch {
      // The probe only sharpens the message; its own failure changes nothing.
    }
    const message =
      repoExists === false
        ? `repository ${t.name} does not exist on ${t.host}: check the image name`
        : repoExists === true
          ? `tag ${tag} does not exist in ${t.host}/${t.name}: check the tag`
          : `tag ${tag} does not exist in ${t.host}/${t.name} (or the repository does not exist): check the image name and tag`;
    return http.fail("not_found", message, t, { status: 404 });
  }

  function malformed(p: Parsed, message: string): RegistryError {
    return http.fail("malformed", `${p.target.host}/${p.target.name}: ${message}`, p.target);
  }

  /** Checks the bytes against the digest asked for, else against Docker-Content-Digest; returns the digest. */
  function verify(p: Parsed, answer: Answer, what: string, expected: string | undefined): string {
    const header = answer.headers.get("docker-content-digest")?.trim();
    const claimed = expected ?? (header && DIGEST.test(header) ? header : undefined);
    if (claimed === undefined) return digestOf(answer.body, "sha256:") as string;
    const actual = digestOf(answer.body, claimed);
    if (actual === null)
      throw malformed(p, `${what} uses an unsupported digest algorithm (${claimed.split(":")[0]})`);
    if (actual !== claimed) {
      throw malformed(p, `${what} does not match its digest ${claimed}: the registry or a proxy altered it`);
    }
    return actual;
  }

  function json(p: Parsed, body: Buffer, what: string): unknown {
    try {
      return JSON.parse(body.toString("utf8"));
    } catch {
      throw malformed(p, `${what} is not valid JSON`);
    }
  }

  function validate<T>(p: Parsed, schema: z.ZodType<T>, value: unknown, what: string): T {
    const result = schema.safeParse(value);
    if (!result.success) throw malformed(p, `${what} is not valid: ${describeIssues(result.error)}`);
    return result.data;
  }

  async function getManifest(p: Parsed, reference: string, byDigest: boolean): Promise<Fetched> {
    const what = byDigest ? `manifest ${reference}` : `tag ${reference}`;
    const answer = await http.send(p.target, "GET", `manifests/${reference}`, {
      accept: MANIFEST_ACCEPT,
      maxBytes: MANIFEST_MAX_BYTES,
      what,
    });
    if (answer.status === 404 && !byDigest && !registryErrorCodes(answer.body).includes("NAME_UNKNOWN")) {
      throw await tagNotFound(p, reference);
    }
    if (answer.status !== 200) throw failed(p, answer, what);
    if (answer.tooLarge) throw malformed(p, `the manifest for ${what} is larger than 4 MiB`);
    const digest = verify(p, answer, `the manifest for ${what}`, byDigest ? reference : undefined);
    const doc = json(p, answer.body, `the manifest for ${what}`);
    const obj =
      typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
    const declared = typeof obj.mediaType === "string" ? obj.mediaType : undefined;
    const contentType = baseMediaType(answer.headers.get("content-type"));
    if (
      obj.schemaVersion === 1 ||
      SCHEMA1_MEDIA_TYPES.includes(declared ?? "") ||
      SCHEMA1_MEDIA_TYPES.includes(contentType ?? "")
    ) {
      throw malformed(
        p,
        `${what} is a Docker schema 1 manifest, which is deprecated and not supported: push the image again with a current Docker or buildx`,
      );
    }
    const known = [
      MEDIA_TYPES.ociIndex,
      MEDIA_TYPES.dockerList,
      MEDIA_TYPES.ociManifest,
      MEDIA_TYPES.dockerManifest,
    ];
    const mediaType =
      declared ??
      (contentType && (known as string[]).includes(contentType) ? contentType : undefined) ??
      ("manifests" in obj ? MEDIA_TYPES.ociIndex : "config" in obj ? MEDIA_TYPES.ociManifest : undefined);
    if (mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList) {
      return {
        kind: "index",
        digest,
        mediaType,
        doc: validate(p, indexSchema, doc, `the index for ${what}`),
      };
    }
    if (mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest) {
      const manifest = validate(p, imageManifestSchema, doc, `the manifest for ${what}`);
      return { kind: "manifest", digest, mediaType, doc: manifest };
    }
    throw malformed(
      p,
      `${what} has media type ${mediaType === undefined ? "(none)" : `"${mediaType.slice(0, 100)}"`}, which is not a container image manifest or index`,
    );
  }

  function pickPlatform(p: Parsed, index: IndexManifest, wanted: Platform, what: string) {
    const candidates = index.manifests.flatMap((m) =>
      m.platform && m.platform.os !== "unknown" && m.platform.architecture !== "unknown"
        ? [{ entry: m, platform: { ...m.platform, variant: m.platform.variant ?? "" } }]
        : [],
    );
    const match = candidates.find((c) => samePlatform(c.platform, wanted));
    if (match) return match;
    const available = [...new Set(candidates.map((c) => formatPlatform(c.platform)))];
    throw http.fail(
      "no_platform",
      `${p.target.host}/${p.target.name} ${what} has no image for ${formatPlatform(wanted)}; available: ${
        available.length > 0 ? available.join(", ") : "none"
      }. Set images[].platform in patchpilot.yaml to one of these`,
      p.target,
    );
  }

  return {
    async resolve(ref) {
      const p = parse(ref);
      const head = await http.send(p.target, "HEAD", `manifests/${p.reference}`, {
        accept: MANIFEST_ACCEPT,
        maxBytes: 0,
        what: p.shown,
      });
      const digest = head.headers.get("docker-content-digest")?.trim();
      const mediaType = baseMediaType(head.headers.get("content-type"));
      const known: string[] = [
        MEDIA_TYPES.ociIndex,
        MEDIA_TYPES.dockerList,
        MEDIA_TYPES.ociManifest,
        MEDIA_TYPES.dockerManifest,
      ];
      if (head.status === 200 && digest && DIGEST.test(digest) && mediaType && known.includes(mediaType)) {
        if (p.byDigest && digest !== p.reference) {
          throw malformed(p, `the registry answered digest ${digest} for ${p.shown}`);
        }
        return { digest, mediaType };
      }
      // No digest or media type on HEAD (some registries and proxies), or an error without a body:
      // a GET tells us both, and why it failed.
      const got = await getManifest(p, p.reference, p.byDigest);
      return { digest: got.digest, mediaType: got.mediaType };
    },

    async inspect(ref, platformText) {
      const p = parse(ref);
      const wanted = parsePlatform(platformText);
      if (!wanted) {
        throw http.fail(
          "bad_reference",
          `platform "${platformText.slice(0, 100)}" is not os/arch[/variant] (e.g. linux/amd64)`,
          p.target,
        );
      }
      const top = await getManifest(p, p.reference, p.byDigest);
      let current: Fetched = top;
      let picked: Platform | undefined;
      // An index may point at another index (rare); follow a couple of levels, never a loop.
      for (let depth = 0; current.kind === "index"; depth++) {
        if (depth >= 2) throw malformed(p, `${p.shown} nests indexes more than two levels deep`);
        const choice = pickPlatform(p, current.doc, wanted, p.shown);
        picked = choice.platform;
        current = await getManifest(p, choice.entry.digest, true);
      }
      const manifest = current.doc;
      const configType = manifest.config.mediaType;
      if (
        configType !== undefined &&
        configType !== MEDIA_TYPES.ociConfig &&
        configType !== MEDIA_TYPES.dockerConfig
      ) {
        throw malformed(
          p,
          `${p.shown} is not a container image (its config has media type "${configType.slice(0, 100)}")`,
        );
      }
      if (manifest.config.size > CONFIG_MAX_BYTES) {
        throw malformed(p, `the image config of ${p.shown} is larger than 8 MiB`);
      }
      const configDigest = manifest.config.digest;
      const what = `config blob ${configDigest}`;
      const answer = await http.send(p.target, "GET", `blobs/${configDigest}`, {
        maxBytes: CONFIG_MAX_BYTES,
        what,
      });
      if (answer.status !== 200) throw failed(p, answer, what);
      if (answer.tooLarge) throw malformed(p, `the image config of ${p.shown} is larger than 8 MiB`);
      verify(p, answer, `the image config of ${p.shown}`, configDigest);
      const config = validate(
        p,
        imageConfigSchema,
        json(p, answer.body, `the image config of ${p.shown}`),
        `the image config of ${p.shown}`,
      );
      if (picked === undefined) {
        if (config.os !== undefined && config.architecture !== undefined) {
          picked = { os: config.os, architecture: config.architecture, variant: config.variant ?? "" };
          if (!samePlatform(picked, wanted)) {
            throw http.fail(
              "no_platform",
              `${p.target.host}/${p.target.name} ${p.shown} is a single-platform image for ${formatPlatform(picked)}; it has no image for ${formatPlatform(wanted)}. Set images[].platform in patchpilot.yaml to match`,
              p.target,
            );
          }
        } else {
          picked = wanted;
        }
      }
      const created = config.created === undefined ? null : new Date(config.created);
      return {
        repository: p.repository,
        digest: top.digest,
        manifestDigest: current.digest,
        configDigest,
        diffIds: config.rootfs.diff_ids,
        created: created === null || Number.isNaN(created.getTime()) ? null : created,
        platform: formatPlatform(picked),
      };
    },
  };
}
