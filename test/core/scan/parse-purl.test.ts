import { describe, expect, it } from "vitest";
import { parsePurl, purlQualifier } from "../../../src/core/scan/parse-purl.js";

describe("parsePurl", () => {
  it.each([
    ["pkg:npm/jquery@3.3.9", { type: "npm", namespace: null, name: "jquery", version: "3.3.9" }],
    ["pkg:npm/%40babel/core@7.0.0", { type: "npm", namespace: "@babel", name: "core", version: "7.0.0" }],
    [
      "pkg:deb/debian/tar@1.30%2Bdfsg-6?arch=amd64&distro=debian-10.12",
      { type: "deb", namespace: "debian", name: "tar", version: "1.30+dfsg-6" },
    ],
    [
      "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2?package-id=5f39f8a11642bede",
      { type: "maven", namespace: "org.apache.logging.log4j", name: "log4j-core", version: "2.13.2" },
    ],
    [
      "pkg:golang/golang.org/x/net",
      { type: "golang", namespace: "golang.org/x", name: "net", version: null },
    ],
    ["pkg:npm/bad%E0name@1", { type: "npm", namespace: null, name: "bad%E0name", version: "1" }],
  ])("%s", (text, expected) => {
    expect(parsePurl(text)).toEqual(expected);
  });

  it.each([["jquery@3.3.9"], ["pkg:"], ["pkg:npm"]])("%j is not a purl", (text) => {
    expect(parsePurl(text)).toBeNull();
  });

  it("reads a qualifier, decoded", () => {
    const purl = "pkg:oci/ubuntu@sha256%3Aabc?arch=amd64&repository_url=index.docker.io%2Flibrary%2Fubuntu";
    expect(purlQualifier(purl, "repository_url")).toBe("index.docker.io/library/ubuntu");
    expect(purlQualifier(purl, "tag")).toBeNull();
  });
});
