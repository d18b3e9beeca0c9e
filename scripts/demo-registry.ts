// A tiny in-process OCI registry for `npm run demo`: just enough of the distribution API for
// patchpilot's registry client (GET /v2/, manifests by tag or digest, config blobs, the tag list),
// so the demo runs without Docker or a registry installed. Images are single-platform OCI image
// manifests whose config carries the `rootfs.diff_ids` the demo chooses; layer blobs are never
// served (the client does not read them). Tests use Debian's real docker-registry instead.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

export type DemoRegistry = {
  /** `127.0.0.1:<port>`: what image references and `registries[].host` name. */
  host: string;
  /**
   * Publishes a release under `name:tag` (a new one, or the tag moved): an image whose config has
   * these diff ids. Returns the manifest digest the tag now points to.
   */
  moveTag(name: string, tag: string, diffIds: readonly string[], created: string): string;
  close(): Promise<void>;
};

const sha256 = (bytes: Buffer | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

export async function startDemoRegistry(): Promise<DemoRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const tags = new Map<string, Map<string, string>>();

  const send = (res: ServerResponse, status: number, body: Buffer, headers: Record<string, string>) => {
    res.writeHead(status, {
      "docker-distribution-api-version": "registry/2.0",
      "content-length": String(body.length),
      ...headers,
    });
    res.end(res.req.method === "HEAD" ? undefined : body);
  };
  const error = (res: ServerResponse, status: number, code: string, message: string) =>
    send(res, status, Buffer.from(JSON.stringify({ errors: [{ code, message }] })), {
      "content-type": "application/json",
    });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://registry").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return error(res, 405, "UNSUPPORTED", "read-only");
    if (path === "/v2/" || path === "/v2")
      return send(res, 200, Buffer.from("{}"), { "content-type": "application/json" });
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.+)$/.exec(path);
    if (!m) return error(res, 404, "NOT_FOUND", "not a registry route");
    const [, name = "", kind, ref = ""] = m;
    const repo = tags.get(name);
    if (!repo) return error(res, 404, "NAME_UNKNOWN", `repository ${name} is not known`);
    if (kind === "tags")
      return send(res, 200, Buffer.from(JSON.stringify({ name, tags: [...repo.keys()] })), {
        "content-type": "application/json",
      });
    if (kind === "blobs") {
      const blob = blobs.get(ref);
      if (!blob) return error(res, 404, "BLOB_UNKNOWN", `blob ${ref} is not known`);
      return send(res, 200, blob, {
        "content-type": "application/octet-stream",
        "docker-content-digest": ref,
      });
    }
    const digest = ref.startsWith("sha256:") ? ref : repo.get(ref);
    const manifest = digest === undefined ? undefined : manifests.get(digest);
    if (digest === undefined || !manifest) return error(res, 404, "MANIFEST_UNKNOWN", `${ref} is not known`);
    return send(res, 200, manifest, { "content-type": OCI_MANIFEST, "docker-content-digest": digest });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    host: `127.0.0.1:${port}`,
    moveTag(name, tag, diffIds, created) {
      const config = Buffer.from(
        JSON.stringify({
          architecture: "amd64",
          os: "linux",
          created,
          config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"] },
          rootfs: { type: "layers", diff_ids: diffIds },
        }),
      );
      const configDigest = sha256(config);
      blobs.set(configDigest, config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
          // The compressed layers' digests: stand-ins, as the client never fetches a layer.
          layers: diffIds.map((d) => ({ mediaType: OCI_LAYER, digest: sha256(`gzip of ${d}`), size: 1024 })),
        }),
      );
      const digest = sha256(manifest);
      manifests.set(digest, manifest);
      const repo = tags.get(name) ?? new Map<string, string>();
      repo.set(tag, digest);
      tags.set(name, repo);
      return digest;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
