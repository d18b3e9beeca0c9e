export type Purl = { type: string; namespace: string | null; name: string; version: string | null };

/**
 * The parts of a package URL (`pkg:type/namespace/name@version?qualifiers#subpath`) that name a
 * package. Null when the text is not a purl.
 */
export function parsePurl(text: string): Purl | null {
  if (!text.startsWith("pkg:")) return null;
  let rest = text.slice(4);
  const hash = rest.indexOf("#");
  if (hash !== -1) rest = rest.slice(0, hash);
  const question = rest.indexOf("?");
  if (question !== -1) rest = rest.slice(0, question);
  rest = rest.replace(/^\/+/, "");

  // "@" inside a name is percent-encoded, so the last one separates the version.
  const at = rest.lastIndexOf("@");
  const version = at === -1 ? null : decode(rest.slice(at + 1));
  const path = (at === -1 ? rest : rest.slice(0, at)).split("/").filter((p) => p !== "");
  const type = path.shift();
  const name = path.pop();
  if (type === undefined || name === undefined) return null;
  return {
    type: type.toLowerCase(),
    namespace: path.length > 0 ? path.map(decode).join("/") : null,
    name: decode(name),
    version: version === "" ? null : version,
  };
}

/** The value of one `?key=value` qualifier, decoded, or null. */
export function purlQualifier(text: string, key: string): string | null {
  const question = text.indexOf("?");
  if (!text.startsWith("pkg:") || question === -1) return null;
  const hash = text.indexOf("#", question);
  const query = text.slice(question + 1, hash === -1 ? undefined : hash);
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq) === key) return decode(pair.slice(eq + 1));
  }
  return null;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    // Malformed escapes: the text as written is still the best name we have.
    return part;
  }
}
