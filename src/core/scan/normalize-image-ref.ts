export type ImageRef = { repository: string; tag: string | null; digest: string | null };

const dockerHubAliases = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
]);
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const domainPattern =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/;
const tagPattern = /^\w[\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/**
 * Reads an image reference the way Docker does, so that `node`, `library/node` and
 * `docker.io/library/node` are one repository (`docker.io/library/node`), and `localhost:5000/x:1`
 * keeps its port. Returns null when the text is not a valid reference (e.g. an archive path with
 * upper-case letters, or text with spaces). A missing tag stays null: `latest` is a guess.
 */
export function parseImageRef(ref: string): ImageRef | null {
  const text = ref.trim();
  const at = text.indexOf("@");
  const namePart = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? null : text.slice(at + 1);
  if (digest !== null && !digestPattern.test(digest)) return null;

  const lastSlash = namePart.lastIndexOf("/");
  const colon = namePart.indexOf(":", lastSlash + 1);
  const name = colon === -1 ? namePart : namePart.slice(0, colon);
  const tag = colon === -1 ? null : namePart.slice(colon + 1);
  if (tag !== null && !tagPattern.test(tag)) return null;

  const parts = name.split("/");
  const first = parts[0] ?? "";
  // Docker's rule: the first part is a registry when it has a dot or a port, or is localhost.
  const hasDomain =
    parts.length > 1 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  const domainRaw = hasDomain ? first.toLowerCase() : "docker.io";
  const domain = dockerHubAliases.has(domainRaw) ? "docker.io" : domainRaw;
  const path = hasDomain ? parts.slice(1) : parts;
  if (domain === "docker.io" && path.length === 1) path.unshift("library");

  if (!domainPattern.test(domain)) return null;
  if (path.length === 0 || !path.every((p) => pathComponent.test(p))) return null;
  return { repository: `${domain}/${path.join("/")}`, tag, digest };
}

/**
 * `parseImageRef`, or the trimmed text itself as the repository when it is not a valid reference,
 * so a caller always gets something to display.
 */
export function normalizeImageRef(ref: string): ImageRef {
  return parseImageRef(ref) ?? { repository: ref.trim(), tag: null, digest: null };
}
