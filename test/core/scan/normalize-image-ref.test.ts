import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeImageRef, parseImageRef } from "../../../src/core/scan/normalize-image-ref.js";

const digest = "sha256:4f1c7d3e9b0a2c5e8f6d1b3a7c9e0f2d4b6a8c0e1f3d5b7a9c2e4f6a8b0d1c3e";

describe("normalizeImageRef", () => {
  it.each([
    ["node", "docker.io/library/node", null, null],
    ["library/node", "docker.io/library/node", null, null],
    ["docker.io/library/node", "docker.io/library/node", null, null],
    ["docker.io/node:22", "docker.io/library/node", "22", null],
    ["index.docker.io/library/node:22", "docker.io/library/node", "22", null],
    ["registry-1.docker.io/bitnami/redis:7.2", "docker.io/bitnami/redis", "7.2", null],
    ["bitnami/redis", "docker.io/bitnami/redis", null, null],
    ["node:22.10-bookworm-slim", "docker.io/library/node", "22.10-bookworm-slim", null],
    [`node@${digest}`, "docker.io/library/node", null, digest],
    [`node:22@${digest}`, "docker.io/library/node", "22", digest],
    ["ghcr.io/acme/payments-api:1.4.2", "ghcr.io/acme/payments-api", "1.4.2", null],
    ["GHCR.IO/acme/api", "ghcr.io/acme/api", null, null],
    ["localhost:5000/x:tag", "localhost:5000/x", "tag", null],
    ["localhost:5000/team/x", "localhost:5000/team/x", null, null],
    ["localhost/x", "localhost/x", null, null],
    ["registry.example.com:8443/a/b/c:v1", "registry.example.com:8443/a/b/c", "v1", null],
    [" node:20 ", "docker.io/library/node", "20", null],
  ] as const)("%s → %s tag %s digest %s", (ref, repository, tag, dig) => {
    expect(normalizeImageRef(ref)).toEqual({ repository, tag, digest: dig });
  });

  it.each([["node", "library/node", "docker.io/library/node", "index.docker.io/library/node"]])(
    "%s, %s, %s and %s are one repository",
    (...refs) => {
      expect(new Set(refs.map((r) => normalizeImageRef(r).repository)).size).toBe(1);
    },
  );

  it.each([
    ["", "empty"],
    ["REDACTED", "upper-case repository"],
    ["my image:1", "a space"],
    ["node:", "an empty tag"],
    ["node@sha256:short", "a truncated digest"],
    ["node:bad/tag", "a slash after the tag"],
  ])("%j (%s) is not a reference", (ref) => {
    expect(parseImageRef(ref)).toBeNull();
  });

  it("keeps text that is not a reference as the repository, so there is always something to show", () => {
    expect(normalizeImageRef(" REDACTED ")).toEqual({ repository: "REDACTED", tag: null, digest: null });
  });

  it("is idempotent on its own output", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("node", "library/node", "ghcr.io/a/b", "localhost:5000/x", "docker.io/bitnami/redis"),
        fc.option(fc.constantFrom("1", "22.10-slim", "latest"), { nil: undefined }),
        (name, tag) => {
          const once = normalizeImageRef(tag === undefined ? name : `${name}:${tag}`);
          const again = normalizeImageRef(
            once.tag === null ? once.repository : `${once.repository}:${once.tag}`,
          );
          expect(again).toEqual(once);
        },
      ),
    );
  });

  it("never throws", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(typeof normalizeImageRef(text).repository).toBe("string");
      }),
    );
  });
});
