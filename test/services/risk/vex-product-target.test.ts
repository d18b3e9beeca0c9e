import { describe, expect, it } from "vitest";
import { vexProductTarget } from "../../../src/services/risk/vex-product-target.js";

const digest = `sha256:${"e".repeat(64)}`;

describe("vexProductTarget", () => {
  it.each([
    ["pkg:oci/api?repository_url=ghcr.io/acme/api", ["ghcr.io/acme/api"]],
    ["pkg:oci/trivy?repository_url=index.docker.io%2Faquasec%2Ftrivy", ["docker.io/aquasec/trivy"]],
    [
      `pkg:oci/api@sha256%3A${"e".repeat(64)}?repository_url=https://ghcr.io/acme/api&tag=1.2`,
      ["ghcr.io/acme/api"],
    ],
    // repository_url holding only the parent of the repository, as some tools write it
    ["pkg:oci/api?repository_url=ghcr.io/acme", ["ghcr.io/acme", "ghcr.io/acme/api"]],
    ["pkg:docker/library/node@20", ["docker.io/library/node"]],
    ["pkg:docker/node", ["docker.io/library/node"]],
    ["pkg:docker/acme/worker?repository_url=ghcr.io", ["ghcr.io/acme/worker"]],
    ["pkg:docker/acme/worker?repository_url=https://hub.docker.com", ["docker.io/acme/worker"]],
    ["ghcr.io/acme/api:1.2", ["ghcr.io/acme/api"]],
    [`node@${digest}`, ["docker.io/library/node"]],
    ["urn:cdx:6c1a8f0e/1#pkg:oci/api%3Frepository_url%3Dghcr.io%2Facme%2Fapi", ["ghcr.io/acme/api"]],
  ])("reads %s as a repository", (product, repositories) => {
    expect(vexProductTarget(product)).toEqual({ kind: "repository", repositories });
  });

  it("reads a pkg:oci purl with only a digest as that digest", () => {
    expect(vexProductTarget(`pkg:oci/alpine@sha256%3A${"e".repeat(64)}`)).toEqual({ kind: "digest", digest });
  });

  it.each([
    ["pkg:oci/debian", "neither a repository_url nor a digest"],
    ["pkg:apk/alpine/busybox@1.36.1-r2", "names a package (pkg:apk), not an image"],
    ["urn:cdx:3e67/1#pkg:maven/org.springframework.boot/spring-boot@2.6.0", "names a package (pkg:maven)"],
    ["urn:cdx:3e67/1", "names a whole BOM"],
    ["Acme Product", "is not an image reference"],
    ["acme-product", "is not an image reference"],
    ["pkg:", "is not a valid package URL"],
    ["pkg:oci/api?repository_url=Not%20A%20Repo", "does not name a valid image repository"],
  ])("says why %s names no image", (product, reason) => {
    const target = vexProductTarget(product);
    expect(target.kind).toBe("unusable");
    expect(target.kind === "unusable" && target.reason).toContain(reason);
  });
});
