export type AuthChallenge = {
  /** Lower-cased scheme: `bearer`, `basic`, … */
  scheme: string;
  /** Parameters with lower-cased names; the first occurrence of a name wins. */
  params: Map<string, string>;
};

// RFC 7230 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const WS = /[ \t]/;
const MAX_LENGTH = 16 * 1024;

/**
 * Reads a `WWW-Authenticate` header (RFC 7235): several challenges, each a scheme followed by
 * `name=value` parameters (values quoted with backslash escapes, or bare) or a token68. Garbage is
 * skipped rather than rejected, and nothing here throws: registries and proxies send odd headers.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const s = header.length > MAX_LENGTH ? header.slice(0, MAX_LENGTH) : header;
  const challenges: AuthChallenge[] = [];
  let i = 0;

  const skipWs = (): void => {
    while (i < s.length && WS.test(s[i] as string)) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i] as string)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    // s[i] is the opening quote; an unterminated string runs to the end of the header.
    i++;
    let out = "";
    while (i < s.length) {
      const c = s[i] as string;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === "\\" && i + 1 < s.length) {
        out += s[i + 1];
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    return out;
  };
  const readBare = (): string => {
    const start = i;
    while (i < s.length && s[i] !== "," && !WS.test(s[i] as string)) i++;
    return s.slice(start, i);
  };
  /** At `name =` (a parameter) rather than at the next scheme? Does not move. */
  const atParam = (): boolean => {
    const save = i;
    const name = readToken();
    skipWs();
    const isParam = name !== "" && s[i] === "=";
    i = save;
    return isParam;
  };

  while (i < s.length) {
    while (i < s.length && (s[i] === "," || WS.test(s[i] as string))) i++;
    if (i >= s.length) break;
    const scheme = readToken();
    if (scheme === "") {
      i++; // not a token character: garbage, skip it
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: new Map() };
    challenges.push(challenge);
    skipWs();
    // token68 (`Negotiate dXNlcg==`): token68 characters, optional `=` padding, then a comma or
    // the end. Without that ending, `name=value` is a parameter.
    const start = i;
    while (i < s.length && /[A-Za-z0-9\-._~+/]/.test(s[i] as string)) i++;
    while (i < s.length && s[i] === "=") i++;
    const token68 = s.slice(start, i);
    skipWs();
    if (token68 !== "" && (i >= s.length || s[i] === ",")) {
      challenge.params.set("token68", token68);
      continue;
    }
    i = start;
    if (!atParam()) continue;
    for (;;) {
      skipWs();
      if (!atParam()) break;
      const name = readToken().toLowerCase();
      skipWs();
      i++; // "="
      skipWs();
      const value = s[i] === '"' ? readQuoted() : readBare();
      if (!challenge.params.has(name)) challenge.params.set(name, value);
      skipWs();
      if (s[i] !== ",") break;
      while (i < s.length && (s[i] === "," || WS.test(s[i] as string))) i++;
    }
  }
  return challenges;
}
