import { parseImageRef } from "../core/scan/normalize-image-ref.js";
import { clipLine } from "./render-clip.js";
import { advisoryUrl } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

// A longer link would crowd out the list it sits in; the name is still shown, unlinked.
const MAX_URL = 300;
const MAX_NAME = 60;
const MAX_ID = 60;

/**
 * The page of a repository in its registry: Docker Hub's own pages for docker.io, otherwise the
 * repository as an https address (ghcr.io, quay.io and most registries answer there). Null when
 * the text is not a valid image reference, so nothing a scan report says can become a link.
 */
export function registryUrl(repository: string): string | null {
  const ref = parseImageRef(repository);
  if (ref === null || ref.repository !== repository) return null;
  const [domain, ...path] = repository.split("/");
  let url = `https://${repository}`;
  if (domain === "docker.io") {
    url =
      path[0] === "library" && path.length === 2
        ? `https://hub.docker.com/_/${path[1]}`
        : `https://hub.docker.com/r/${path.join("/")}`;
  }
  return url.length <= MAX_URL ? url : null;
}

/** The image's name, linked to its registry page when it has one. */
export function renderImageLink(image: { name: string; repository: string }, maxName = MAX_NAME): string {
  const name = escapeMrkdwn(clipLine(image.name, maxName));
  const url = registryUrl(image.repository);
  return url === null ? name : `<${url}|${name}>`;
}

/** A vulnerability id, linked to its advisory when it is a CVE or GHSA. */
export function renderVulnerabilityLink(id: string): string {
  const url = advisoryUrl(id);
  return url === null ? escapeMrkdwn(clipLine(id, MAX_ID)) : `<${url}|${id}>`;
}
