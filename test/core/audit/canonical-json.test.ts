import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../src/core/audit/canonical-json.js";

describe("canonicalJson", () => {
  it.each<[string, unknown, string]>([
    [
      "sorts keys at every depth",
      { b: 1, a: { d: [3, { z: 0, y: 1 }], c: null } },
      '{"a":{"c":null,"d":[3,{"y":1,"z":0}]},"b":1}',
    ],
    // In code point order U+FB33 would come first; in UTF-16 the surrogate pair (0xD83D…) does.
    [
      "sorts keys by UTF-16 code units (RFC 8785)",
      { "\uFB33": 1, "\u{1F600}": 2, a: 3, B: 4 },
      '{"B":4,"a":3,"\u{1F600}":2,"\uFB33":1}',
    ],
    ["keeps array order", [3, 1, 2], "[3,1,2]"],
    ["writes integers and fractions the shortest way", [1, 1.5, 0.1, -7, 100], "[1,1.5,0.1,-7,100]"],
    [
      "writes large and tiny numbers in exponent form",
      [1e21, 1e-7, 123456789012345680000],
      "[1e+21,1e-7,123456789012345680000]",
    ],
    ["writes negative zero as 0", [-0], "[0]"],
    ["escapes quotes, backslashes and control characters", 'a"b\\c\n\u0001', '"a\\"b\\\\c\\n\\u0001"'],
    ["keeps non-ASCII characters as they are", "café 😀", '"café 😀"'],
    ["writes an empty object and array", { a: {}, b: [] }, '{"a":{},"b":[]}'],
    ["accepts objects without a prototype", Object.assign(Object.create(null), { x: true }), '{"x":true}'],
  ])("%s", (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  const circular: Record<string, unknown> = {};
  circular.self = circular;

  it.each<[string, unknown, RegExp]>([
    ["undefined", undefined, /undefined at \$/],
    ["an undefined property", { a: { b: undefined } }, /undefined at \$\.a\.b/],
    ["an undefined array element", [1, undefined], /undefined at \$\[1\]/],
    ["an array hole", new Array(2), /undefined at \$\[0\]/],
    ["a function", { f: () => 1 }, /function at \$\.f/],
    ["a symbol", [Symbol("s")], /symbol/],
    ["a bigint", { n: 1n }, /bigint at \$\.n/],
    ["NaN", { n: Number.NaN }, /NaN at \$\.n/],
    ["Infinity", [Number.POSITIVE_INFINITY], /Infinity/],
    ["a Date", { at: new Date(0) }, /Date object at \$\.at/],
    ["a Map", new Map(), /Map object/],
    ["a lone surrogate", { s: "x\uD800" }, /lone surrogate at \$\.s/],
    ["a lone surrogate in a key", { "\uDC00": 1 }, /lone surrogate/],
    ["a circular reference", circular, /circular reference at \$\.self/],
  ])("refuses %s, naming where it is", (_name, value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });

  it("allows the same object twice when it is not its own ancestor", () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it("is stable: parsing its output and encoding again gives the same text", () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "grapheme" }), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });

  it("does not depend on the order keys were inserted in", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string(), fc.jsonValue()), { selector: ([k]) => k }),
        fc.infiniteStream(fc.nat()),
        (entries, randoms) => {
          const shuffled = [...entries];
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = (randoms.next().value ?? 0) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          expect(canonicalJson(Object.fromEntries(shuffled))).toBe(
            canonicalJson(Object.fromEntries(entries)),
          );
        },
      ),
    );
  });

  it("parses back to the same value as JSON.stringify would give", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});
