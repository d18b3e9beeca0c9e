import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createRegistryClient,
  parseWwwAuthenticate,
  RegistryError,
} from "../../src/adapters/registry/registry-client.js";

const sha = (bytes: string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

function params(header: string) {
  return parseWwwAuthenticate(header).map((c) => ({
    scheme: c.scheme,
    params: Object.fromEntries(c.params),
  }));
}

describe("parseWwwAuthenticate", () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:library/node:pull",
          },
        },
      ],
    ],
    [
      'Bearer realm="https://r.example/t", scope="repository:a/b:pull,push"',
      [{ scheme: "bearer", params: { realm: "https://r.example/t", scope: "repository:a/b:pull,push" } }],
    ],
    [
      'Basic realm="say \\"hi\\", ok", Bearer realm=https://t.example/x , service=reg',
      [
        { scheme: "basic", params: { realm: 'say "hi", ok' } },
        { scheme: "bearer", params: { realm: "https://t.example/x", service: "reg" } },
      ],
    ],
    [
      "Negotiate dXNlcjpwdw==, Basic",
      [
        { scheme: "negotiate", params: { token68: "dXNlcjpwdw==" } },
        { scheme: "basic", params: {} },
      ],
    ],
    ['BEARER REALM="x', [{ scheme: "bearer", params: { realm: "x" } }]],
    ["", []],
    ["@@@ ,,, ===", []],
  ])("%s", (header, expected) => {
    expect(params(header)).toEqual(expected);
  });

  it("never throws, whatever the header", () => {
    const pieces = fc.constantFrom(
      '"',
      "\\",
      ",",
      "=",
      " ",
      "\t",
      "Bearer",
      "Basic",
      "realm",
      "scope",
      "a",
      "é",
      ":",
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.array(pieces).map((p) => p.join("")),
        ),
        (header) => {
          const out = parseWwwAuthenticate(header);
          expect(Array.isArray(out)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** Header values Headers accepts: no CR, LF or NUL, Latin-1 only. */
const headerValue = fc
  .oneof(
    fc.string({ unit: "binary-ascii" }),
    fc
      .array(
        fc.constantFrom(
          'Bearer realm="',
          "http://127.0.0.1:1/token",
          "https://auth.example/t",
          "not a url",
          '"',
          ",",
          "=",
          " ",
          "\\",
          "Basic",
          'service="s"',
          "scope=",
          "realm=",
        ),
      )
      .map((p) => p.join("")),
  )
  .map((s) => s.replace(/[\r\n\0]/g, "").trim());

const tokenAnswer = fc.oneof(
  fc.jsonValue(),
  fc.record(
    { token: fc.oneof(fc.string(), fc.jsonValue()), access_token: fc.string(), expires_in: fc.jsonValue() },
    { requiredKeys: [] },
  ),
);

describe("the client never throws anything but RegistryError", () => {
  it("for any WWW-Authenticate on a 401", async () => {
    await fc.assert(
      fc.asyncProperty(headerValue, tokenAnswer, fc.boolean(), async (header, tokenBody, withCreds) => {
        const fakeFetch: typeof fetch = async (input) => {
          const url = String(input);
          if (url.includes("/v2/"))
            return new Response(null, { status: 401, headers: { "www-authenticate": header } });
          return new Response(JSON.stringify(tokenBody), { status: 200 });
        };
        const client = createRegistryClient({
          fetch: fakeFetch,
          retries: 0,
          ...(withCreds
            ? { registries: [{ host: "reg.example", username: "u", password: "pw-not-real" }] }
            : {}),
        });
        const err = await client.resolve("reg.example/team/app:1").then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(RegistryError);
        expect((err as RegistryError).message).not.toContain("pw-not-real");
      }),
      { numRuns: 300 },
    );
  });

  /** Manifests and configs that are JSON of any shape, or nearly valid, served by digest. */
  const digestLike = fc.oneof(fc.string(), fc.constant(`sha256:${"0".repeat(64)}`));
  const nearConfig = fc.record(
    {
      os: fc.oneof(fc.constant("linux"), fc.jsonValue()),
      architecture: fc.oneof(fc.constantFrom("amd64", "arm64"), fc.jsonValue()),
      created: fc.oneof(fc.constant("2024-01-01T00:00:00Z"), fc.string(), fc.jsonValue()),
      rootfs: fc.oneof(
        fc.record({ type: fc.constant("layers"), diff_ids: fc.array(fc.oneof(digestLike, fc.jsonValue())) }),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  );
  const document = (configBytes: fc.Arbitrary<string>) =>
    fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      configBytes,
    );

  it("for any JSON as manifest, index or config", async () => {
    let successes = 0;
    const validConfig = fc.record({
      os: fc.constant("linux"),
      architecture: fc.constantFrom("amd64", "arm64"),
      created: fc.oneof(fc.constant("2024-01-01T00:00:00Z"), fc.string()),
      rootfs: fc.record({
        type: fc.constant("layers"),
        diff_ids: fc.array(fc.stringMatching(/^sha256:[0-9a-f]{64}$/), { maxLength: 3 }),
      }),
    });
    const configText = fc.oneof(
      validConfig.map((c) => JSON.stringify(c)),
      nearConfig.map((c) => JSON.stringify(c)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(
        document(configText),
        configText,
        fc.constantFrom("top-index", "top-manifest", "any"),
        fc.constantFrom(
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.oci.image.manifest.v1+json",
          "application/json",
          "",
        ),
        fc.jsonValue(),
        async (anyTop, config, shape, contentType, extra) => {
          const store = new Map<string, string>();
          store.set(sha(config), config);
          const manifest = JSON.stringify({
            schemaVersion: 2,
            config: {
              mediaType: "application/vnd.oci.image.config.v1+json",
              digest: sha(config),
              size: config.length,
            },
            layers: [],
            extra,
          });
          store.set(sha(manifest), manifest);
          const index = JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.index.v1+json",
            manifests: [
              {
                digest: sha(manifest),
                size: manifest.length,
                platform: { os: "linux", architecture: "amd64" },
              },
              { digest: sha(anyTop), size: anyTop.length, platform: { os: "linux", architecture: "arm64" } },
            ],
          });
          store.set(sha(anyTop), anyTop);
          const top = shape === "top-index" ? index : shape === "top-manifest" ? manifest : anyTop;
          const fakeFetch: typeof fetch = async (input) => {
            const ref = String(input).split("/").at(-1) ?? "";
            const body = ref === "1" ? top : store.get(ref);
            if (body === undefined) return new Response("{}", { status: 404 });
            return new Response(body, {
              status: 200,
              headers: contentType ? { "content-type": contentType } : {},
            });
          };
          const client = createRegistryClient({ fetch: fakeFetch, retries: 0 });
          for (const platform of ["linux/amd64", "linux/arm64"]) {
            const result = await client.inspect("reg.example/team/app:1", platform).then(
              (ok) => ok,
              (e: unknown) => e,
            );
            if (!(result instanceof RegistryError)) {
              successes++;
              expect(result).toMatchObject({ diffIds: expect.any(Array), configDigest: expect.any(String) });
            }
          }
          const resolved = await client.resolve("reg.example/team/app:1").then(
            (ok) => ok,
            (e: unknown) => e,
          );
          if (!(resolved instanceof RegistryError)) expect(resolved).toMatchObject({ digest: sha(top) });
        },
      ),
      { numRuns: 300 },
    );
    // The generators reach the end of the happy path too, not only the first check.
    expect(successes).toBeGreaterThan(10);
  });
});
