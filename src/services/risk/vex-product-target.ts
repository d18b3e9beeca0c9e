import { parseImageRef } from "../../core/scan/normalize-image-ref.js";
import { parsePurl, purlQualifier } from "../../core/scan/parse-purl.js";

/** How a VEX product names an image: by repository (several spellings to try), by digest only, or not at all. */
export type VexProductTarget =
  | { kind: "repository"; repositories: string[] }
  | { kind: "digest"; digest: string }
  | { kind: "unusable"; reason: string };

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,128}$/;
const howToName = "name images as pkg:oci/NAME@DIGEST?repository_url=REPOSITORY or as an image reference";

/**
 * Reads a product of a VEX statement as an image: `pkg:oci` purls (repository_url holds the
 * whole repository; without it only the digest identifies the image), `pkg:docker` purls,
 * CycloneDX `urn:cdx:…#ref` references whose ref is one of those, and plain image references.
 * Pure: which known image it is, is the caller's lookup.
 */
export function vexProductTarget(product: string): VexProductTarget {
  const text = product.trim();
  if (text.startsWith("urn:cdx:")) {
    const hash = text.indexOf("#");
    if (hash === -1) return { kind: "unusable", reason: `${short(text)} names a whole BOM, not an image` };
    return vexProductTarget(decode(text.slice(hash + 1)));
  }
  if (text.startsWith("pkg:")) return purlTarget(text);
  // A bare word is more likely a BOM's own ref ("acme-product") than an image on Docker Hub.
  const ref = /[/:@]/.test(text) ? parseImageRef(text) : null;
  if (ref === null)
    return { kind: "unusable", reason: `${short(text)} is not an image reference; ${howToName}` };
  return { kind: "repository", repositories: [ref.repository] };
}

function purlTarget(text: string): VexProductTarget {
  const purl = parsePurl(text);
  if (purl === null) return { kind: "unusable", reason: `${short(text)} is not a valid package URL` };
  const digest = purl.version !== null && DIGEST.test(purl.version) ? purl.version : null;
  if (purl.type === "oci") {
    const url = purlQualifier(text, "repository_url");
    if (url === null) {
      if (digest !== null) return { kind: "digest", digest };
      return {
        kind: "unusable",
        reason: `${short(text)} has neither a repository_url nor a digest, so it could be any image called ${purl.name}; ${howToName}`,
      };
    }
    const base = stripScheme(url);
    // The spec puts the whole repository in repository_url; some tools put only its parent there.
    const spellings = base.split("/").at(-1) === purl.name ? [base] : [base, `${base}/${purl.name}`];
    return repositoryTarget(text, spellings);
  }
  if (purl.type === "docker") {
    const registry = stripScheme(purlQualifier(text, "repository_url") ?? "docker.io");
    const host = registry === "hub.docker.com" ? "docker.io" : registry;
    const path = purl.namespace === null ? purl.name : `${purl.namespace}/${purl.name}`;
    return repositoryTarget(text, [`${host}/${path}`]);
  }
  return {
    kind: "unusable",
    reason: `${short(text)} names a package (pkg:${purl.type}), not an image: patchpilot applies VEX to images; ${howToName}`,
  };
}

function repositoryTarget(text: string, spellings: string[]): VexProductTarget {
  const repositories = [...new Set(spellings.flatMap((s) => parseImageRef(s)?.repository ?? []))];
  if (repositories.length === 0) {
    return { kind: "unusable", reason: `${short(text)} does not name a valid image repository` };
  }
  return { kind: "repository", repositories };
}

const stripScheme = (url: string) => url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, "");
const short = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
