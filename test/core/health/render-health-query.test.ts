import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  escapePromqlString,
  type HealthQueryVars,
  healthQueryProblems,
  renderHealthQuery,
} from "../../../src/core/health/render-health-query.js";

const vars: HealthQueryVars = {
  image: "ghcr.io/acme/api",
  stage: "canary",
  digest: `sha256:${"ab".repeat(32)}`,
  environment: "prod-eu",
  team: "payments",
};

/**
 * Reads a PromQL double-quoted string starting at `s[start]` (the opening quote) by the rules of
 * Prometheus' lexer and Go's strconv.Unquote; returns the value and where the string ended.
 */
function readPromqlString(s: string, start: number): { value: string; end: number } {
  if (s[start] !== '"') throw new Error("not a string");
  let out = "";
  const simple: Record<string, string> = {
    a: "\x07",
    b: "\b",
    f: "\f",
    n: "\n",
    r: "\r",
    t: "\t",
    v: "\v",
    "\\": "\\",
    '"': '"',
  };
  let i = start + 1;
  while (i < s.length) {
    const ch = s[i] as string;
    if (ch === '"') return { value: out, end: i };
    if (ch === "\n") throw new Error("newline in string");
    if (ch !== "\\") {
      out += ch;
      i++;
      continue;
    }
    const e = s[i + 1] ?? "";
    if (e in simple) {
      out += simple[e];
      i += 2;
    } else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 4;
    } else throw new Error(`bad escape \\${e}`);
  }
  throw new Error("unterminated string");
}

describe("renderHealthQuery", () => {
  it("fills every placeholder, spaces inside the braces allowed", () => {
    const q = renderHealthQuery(
      'up{image="{{image}}",stage="{{ stage }}",digest="{{digest}}",env="{{environment}}",team="{{team}}"}',
      vars,
    );
    expect(q).toBe(
      `up{image="ghcr.io/acme/api",stage="canary",digest="sha256:${"ab".repeat(32)}",env="prod-eu",team="payments"}`,
    );
  });

  it("escapes quotes, backslashes and newlines", () => {
    const q = renderHealthQuery('up{image="{{image}}"}', { ...vars, image: 'a"}) or vector(1) #\\\n' });
    expect(q).toBe('up{image="a\\"}) or vector(1) #\\\\\\n"}');
  });

  it("leaves unknown placeholders and missing values as they are", () => {
    expect(
      renderHealthQuery('up{x="{{imgae}}",e="{{environment}}"}', { ...vars, environment: undefined }),
    ).toBe('up{x="{{imgae}}",e="{{environment}}"}');
  });

  it("a value never breaks out of its label matcher: it reads back unchanged by PromQL rules", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary-ascii" }), (image, stage) => {
        const q = renderHealthQuery('sum(rate(x{image="{{image}}",stage="{{stage}}"}[5m]))', {
          ...vars,
          image,
          stage,
        });
        const prefix = 'sum(rate(x{image="';
        expect(q.startsWith(prefix)).toBe(true);
        const first = readPromqlString(q, prefix.length - 1);
        expect(first.value).toBe(image);
        expect(q.slice(first.end, first.end + 9)).toBe('",stage="');
        const second = readPromqlString(q, first.end + 8);
        expect(second.value).toBe(stage);
        expect(q.slice(second.end)).toBe('"}[5m]))');
      }),
    );
  });

  it("in a regex matcher a value matches only itself: dots and brackets are not patterns", () => {
    expect(renderHealthQuery('up{image=~"{{image}}",stage="{{stage}}"}', vars)).toBe(
      'up{image=~"ghcr\\\\.io/acme/api",stage="canary"}',
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string(), (image, other) => {
        const q = renderHealthQuery('up{image=~"{{image}}", env !~ "{{environment}}"}', {
          ...vars,
          image,
          environment: image,
        });
        const prefix = 'up{image=~"';
        const first = readPromqlString(q, prefix.length - 1);
        const second = readPromqlString(q, q.indexOf('"', first.end + 1));
        for (const pattern of [first.value, second.value]) {
          // Prometheus anchors label regexes; RE2 and JavaScript agree on these escapes.
          const re = new RegExp(`^(?:${pattern})$`, "su");
          expect(re.test(image)).toBe(true);
          if (other !== image) expect(re.test(other)).toBe(false);
        }
      }),
    );
  });

  it("escaped values hold no raw newline or control character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (v) => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: that is what is checked
        expect(escapePromqlString(v)).not.toMatch(/[\x00-\x1f\x7f]/);
      }),
    );
  });
});

describe("healthQueryProblems", () => {
  it.each<[string, string, HealthQueryVars | undefined, string[]]>([
    ["a good template", 'sum(rate(x{image="{{image}}",stage="{{stage}}"}[5m]))', undefined, []],
    [
      "a typo",
      'x{image="{{imgae}}"}',
      undefined,
      [
        "unknown placeholder {{imgae}} (did you mean {{image}}?); known: {{image}}, {{stage}}, {{digest}}, {{environment}}, {{team}}",
      ],
    ],
    [
      "an unknown name, reported once",
      'x{a="{{pod}}",b="{{pod}}"}',
      undefined,
      ["unknown placeholder {{pod}}; known: {{image}}, {{stage}}, {{digest}}, {{environment}}, {{team}}"],
    ],
    [
      "outside a string",
      "x{image={{image}}}",
      undefined,
      ['{{image}} must be inside a double-quoted string, e.g. image="{{image}}", so its value is escaped'],
    ],
    [
      "in a single-quoted string",
      "x{image='{{image}}'}",
      undefined,
      ['{{image}} must be inside a double-quoted string, e.g. image="{{image}}", so its value is escaped'],
    ],
    ["after an escaped quote, still inside", 'x{image="\\"{{image}}"}', undefined, []],
    ["in a comment", 'x{image="{{image}}"} # by {{image}}', undefined, []],
    [
      "environment missing for the stage",
      'x{env="{{environment}}"}',
      { ...vars, environment: undefined },
      ["the query uses {{environment}} but the stage has no environment: set stages.<stage>.environment"],
    ],
    [
      "an unclosed placeholder",
      'x{image="{{image"}',
      undefined,
      ["a {{ is never closed: write placeholders as {{image}}"],
    ],
  ])("%s", (_name, template, v, problems) => {
    expect(healthQueryProblems(template, v)).toEqual(problems);
  });
});
