import { closestMatch } from "../closest-match.js";

/** What a health check's PromQL may refer to, as `{{name}}`. */
export type HealthQueryVars = {
  image: string;
  stage: string;
  digest: string;
  environment?: string | undefined;
  team?: string | undefined;
};

export const HEALTH_QUERY_PLACEHOLDERS = ["image", "stage", "digest", "environment", "team"] as const;
type Placeholder = (typeof HEALTH_QUERY_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

const isKnown = (name: string): name is Placeholder =>
  (HEALTH_QUERY_PLACEHOLDERS as readonly string[]).includes(name);

/**
 * The body of a PromQL double-quoted string that reads back as `value`: backslash, double quote
 * and every control character are escaped, so a value can never end the string (or the label
 * matcher around it) early.
 */
export function escapePromqlString(value: string): string {
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}

/**
 * Fills `{{image}}`, `{{stage}}`, `{{digest}}`, `{{environment}}` and `{{team}}` (spaces inside the
 * braces allowed) with values escaped for a PromQL double-quoted string, as in
 * `{image="{{image}}"}`. Placeholders `healthQueryProblems` would report (unknown, or a value
 * that is not given) are left as they are: check with it first.
 */
export function renderHealthQuery(template: string, vars: HealthQueryVars): string {
  const { regex } = quoteContext(template);
  return template.replace(PLACEHOLDER, (whole, name: string, at: number) => {
    if (!isKnown(name)) return whole;
    const value = vars[name];
    if (value === undefined) return whole;
    // Inside a regex matcher (`=~"…"`, `!~"…"`) the value matches itself only, never as a pattern.
    return escapePromqlString(regex[at] ? escapeRegex(value) : value);
  });
}

/** `value` as a regular expression (RE2, as Prometheus uses) that matches exactly that text. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

/**
 * What is wrong with a query template, one sentence each (empty when nothing): unknown
 * placeholders (with the likely one meant), a placeholder outside a double-quoted string (only
 * there is its value escaped), an unclosed `{{`, and, when `vars` are given, a placeholder whose
 * value is missing (a stage without `environment`, say).
 */
export function healthQueryProblems(template: string, vars?: HealthQueryVars): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const { quote: quotes } = quoteContext(template);
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? "";
    const at = m.index;
    if (!isKnown(name)) {
      if (seen.has(`unknown:${name}`)) continue;
      seen.add(`unknown:${name}`);
      const guess = closestMatch(name, HEALTH_QUERY_PLACEHOLDERS);
      problems.push(
        `unknown placeholder {{${name}}}${guess === null ? "" : ` (did you mean {{${guess}}}?)`}; known: ${HEALTH_QUERY_PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}`,
      );
      continue;
    }
    if (quotes[at] !== '"' && quotes[at] !== "#" && !seen.has(`quote:${name}`)) {
      seen.add(`quote:${name}`);
      problems.push(
        `{{${name}}} must be inside a double-quoted string, e.g. ${name}="{{${name}}}", so its value is escaped`,
      );
    }
    if (vars !== undefined && vars[name] === undefined && !seen.has(`missing:${name}`)) {
      seen.add(`missing:${name}`);
      problems.push(
        name === "environment"
          ? "the query uses {{environment}} but the stage has no environment: set stages.<stage>.environment"
          : `the query uses {{${name}}} but there is no ${name} to fill it with`,
      );
    }
  }
  if (template.replace(PLACEHOLDER, "").includes("{{"))
    problems.push("a {{ is never closed: write placeholders as {{image}}");
  return problems;
}

/**
 * For each position of `s`: the quote character of the PromQL string it is inside ("" outside,
 * "#" in a comment), and whether that string is a regex matcher's (after `=~` or `!~`).
 */
function quoteContext(s: string): { quote: string[]; regex: boolean[] } {
  const quote: string[] = [];
  const regex: boolean[] = [];
  let open = "";
  let isRegex = false;
  const push = (q: string) => {
    quote.push(q);
    regex.push(q !== "" && q !== "#" && isRegex);
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? "";
    push(open);
    if (open === "") {
      if (ch === '"' || ch === "'" || ch === "`") {
        open = ch;
        isRegex = /[=!]~\s*$/.test(s.slice(Math.max(0, i - 16), i));
      } else if (ch === "#") {
        // A comment runs to the end of the line.
        while (i + 1 < s.length && s[i + 1] !== "\n") {
          i++;
          push("#");
        }
      }
    } else if (ch === "\\" && open !== "`") {
      i++;
      push(open);
    } else if (ch === open) open = "";
  }
  return { quote, regex };
}
