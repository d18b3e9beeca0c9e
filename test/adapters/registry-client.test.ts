import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistryClient, RegistryError } from "../../src/adapters/registry/registry-client.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";

/** A diff_id made of one repeated hex character: easy to tell apart in failures. */
const diff = (c: string) => `sha256:${c.repeat(64)}`;

async function caught(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

describe("against a real docker-registry (no auth)", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it("resolves a tag to the digest that was pushed, by HEAD only", async () => {
    const pushed = await reg.pushImage("team/api", "1.0", { diffIds: [diff("a"), diff("b")] });
    const client = createRegistryClient();
    const before = reg.requestLog.length;
    const resolved = await client.resolve(`${reg.host}/team/api:1.0`);
    expect(resolved).toEqual({
      digest: pushed.digest,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
    });
    expect(reg.requestLog.slice(before).map((r) => r.method)).toEqual(["HEAD"]);
    // By digest too.
    expect((await client.resolve(`${reg.host}/team/api@${pushed.digest}`)).digest).toBe(pushed.digest);
  });

  it("reads a Docker v2 manifest's config: diff_ids and created", async () => {
    const pushed = await reg.pushImage("team/docker-fmt", "v2", {
      diffIds: [diff("c")],
      created: "2025-03-04T05:06:07Z",
      format: "docker",
    });
    const client = createRegistryClient();
    expect((await client.resolve(`${reg.host}/team/docker-fmt:v2`)).mediaType).toBe(
      "application/vnd.docker.distribution.manifest.v2+json",
    );
    const info = await client.inspect(`${reg.host}/team/docker-fmt:v2`, "linux/amd64");
    expect(info).toEqual({
      repository: `${reg.host}/team/docker-fmt`,
      digest: pushed.digest,
      manifestDigest: pushed.digest,
      configDigest: pushed.configDigest,
      diffIds: [diff("c")],
      created: new Date("2025-03-04T05:06:07Z"),
      platform: "linux/amd64",
    });
  });

  it("sees a moved tag: new digest, new diff_ids", async () => {
    const client = createRegistryClient();
    const first = await reg.pushImage("base/node", "20", { diffIds: [diff("1")] });
    expect((await client.resolve(`${reg.host}/base/node:20`)).digest).toBe(first.digest);
    const second = await reg.pushImage("base/node", "20", { diffIds: [diff("1"), diff("2")] });
    expect(second.digest).not.toBe(first.digest);
    expect((await client.resolve(`${reg.host}/base/node:20`)).digest).toBe(second.digest);
    expect((await client.inspect(`${reg.host}/base/node:20`, "linux/amd64")).diffIds).toEqual([
      diff("1"),
      diff("2"),
    ]);
    await reg.moveTag("base/node", "20", first.digest);
    expect((await client.resolve(`${reg.host}/base/node:20`)).digest).toBe(first.digest);
  });

  it.each(["oci", "docker"] as const)("follows a %s index to the platform asked for", async (format) => {
    const repo = `multi/${format}`;
    const index = await reg.pushIndex(
      repo,
      "latest",
      [
        { platform: "linux/amd64", diffIds: [diff("d"), diff("e")] },
        { platform: "linux/arm64", diffIds: [diff("f")] },
      ],
      { format, attestation: format === "oci" },
    );
    const client = createRegistryClient();
    const resolved = await client.resolve(`${reg.host}/${repo}`);
    expect(resolved.digest).toBe(index.digest);
    expect(resolved.mediaType).toBe(
      format === "oci"
        ? "application/vnd.oci.image.index.v1+json"
        : "application/vnd.docker.distribution.manifest.list.v2+json",
    );
    const amd = await client.inspect(`${reg.host}/${repo}:latest`, "linux/amd64");
    const arm = await client.inspect(`${reg.host}/${repo}:latest`, "linux/arm64");
    expect(amd).toMatchObject({
      digest: index.digest,
      manifestDigest: index.manifests[0]?.digest,
      configDigest: index.manifests[0]?.configDigest,
      diffIds: [diff("d"), diff("e")],
      platform: "linux/amd64",
    });
    expect(arm).toMatchObject({
      digest: index.digest,
      manifestDigest: index.manifests[1]?.digest,
      diffIds: [diff("f")],
      platform: "linux/arm64",
    });
    // arm64 without a variant is arm64/v8, as Docker treats it.
    expect((await client.inspect(`${reg.host}/${repo}:latest`, "linux/arm64/v8")).diffIds).toEqual([
      diff("f"),
    ]);
  });

  it("says which platforms exist when the one asked for does not", async () => {
    await reg.pushIndex(
      "multi/two",
      "1",
      [
        { platform: "linux/amd64", diffIds: [diff("7")] },
        { platform: "linux/arm64", diffIds: [diff("8")] },
      ],
      { attestation: true },
    );
    const err = await caught(createRegistryClient().inspect(`${reg.host}/multi/two:1`, "linux/s390x"));
    expect(err.code).toBe("no_platform");
    expect(err.message).toContain("no image for linux/s390x");
    expect(err.message).toContain("available: linux/amd64, linux/arm64.");
    expect(err.message).not.toContain("unknown");

    await reg.pushImage("single/arm", "1", { diffIds: [diff("9")], platform: "linux/arm64" });
    const single = await caught(createRegistryClient().inspect(`${reg.host}/single/arm:1`, "linux/amd64"));
    expect(single.code).toBe("no_platform");
    expect(single.message).toContain("single-platform image for linux/arm64");
  });

  it("says whether the tag or the repository does not exist", async () => {
    await reg.pushImage("team/known", "1", { diffIds: [diff("a")] });
    const client = createRegistryClient();
    const tag = await caught(client.resolve(`${reg.host}/team/known:nope`));
    expect(tag).toMatchObject({
      code: "not_found",
      retryable: false,
      host: reg.host,
      repository: "team/known",
    });
    expect(tag.message).toBe(`tag nope does not exist in ${reg.host}/team/known: check the tag`);
    const repo = await caught(client.inspect(`${reg.host}/team/unknown:1`, "linux/amd64"));
    expect(repo.code).toBe("not_found");
    expect(repo.message).toBe(`repository team/unknown does not exist on ${reg.host}: check the image name`);
  });
});

describe("against a real docker-registry behind a Bearer token server", () => {
  let anon: TestRegistry;
  let private_: TestRegistry;
  const credentials = { username: "ci-bot", password: "pw-not-real-7f3a" };
  beforeAll(async () => {
    [anon, private_] = await Promise.all([
      startRegistry({ bearer: true, tokenField: "access_token" }),
      startRegistry({ bearer: true, credentials }),
    ]);
    await anon.pushIndex("library/node", "22", [
      { platform: "linux/amd64", diffIds: [diff("a")] },
      { platform: "linux/arm64", diffIds: [diff("b")] },
    ]);
    await private_.pushImage("acme/app", "3", { diffIds: [diff("c")] });
  });
  afterAll(async () => {
    await Promise.all([anon?.stop(), private_?.stop()]);
  });

  it("gets an anonymous token on 401, retries with it, and reuses it", async () => {
    const client = createRegistryClient();
    const info = await client.inspect(`${anon.host}/library/node:22`, "linux/arm64");
    expect(info.diffIds).toEqual([diff("b")]);
    await client.resolve(`${anon.host}/library/node:22`);
    expect(anon.tokenRequests).toEqual([
      { scope: "repository:library/node:pull", service: "pp-test-registry", auth: "none", status: 200 },
    ]);
    expect(anon.requestLog[0]).toMatchObject({ auth: "none", status: 401 });
    expect(anon.requestLog.slice(1).every((r) => r.auth === "bearer" && r.status === 200)).toBe(true);
  });

  it("sends the configured credentials to the token server", async () => {
    const client = createRegistryClient({ registries: [{ host: private_.host, ...credentials }] });
    const info = await client.inspect(`${private_.host}/acme/app:3`, "linux/amd64");
    expect(info.diffIds).toEqual([diff("c")]);
    expect(private_.tokenRequests.at(-1)).toMatchObject({ auth: "basic", status: 200 });
  });

  it("explains a refused password without showing it", async () => {
    const client = createRegistryClient({
      registries: [{ host: private_.host, username: "ci-bot", password: "wrong-pw-not-real" }],
    });
    const err = await caught(client.resolve(`${private_.host}/acme/app:3`));
    expect(err.code).toBe("unauthorized");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`${private_.host} answered 401 for acme/app`);
    expect(err.message).toContain("registries[].usernameEnv / passwordEnv");
    expect(err.message).toContain("were refused");
    expect(err.message).not.toMatch(/wrong-pw|pw-not-real|pp-test-token|ci-bot/);
  });

  it("tells an anonymous caller to configure credentials", async () => {
    const err = await caught(createRegistryClient().resolve(`${private_.host}/acme/app:3`));
    expect(err.code).toBe("unauthorized");
    expect(err.message).toContain("set credentials for this registry in patchpilot.yaml");
  });
});
