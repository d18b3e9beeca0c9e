import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PatchpilotError } from "../../src/core/errors.js";
import { JSON_LIST_BATCH_BYTES, JsonList, readUnreadLists } from "../../src/core/scan/json-list.js";
import { parseScanReport } from "../../src/core/scan/parse-scan-report.js";
import { parseJsonBody } from "../../src/http/parse-json-body.js";
import { parseReportOrThrow } from "../../src/services/ingest-scan.js";
import { digestOf, grypeReport, syntheticVulns, trivyReport } from "../support/report-builders.js";

/** The document with every unparsed list read out, as JSON.parse would have given it. */
function materialize(value: unknown): unknown {
  if (value instanceof JsonList) return [...value].map(materialize);
  if (Array.isArray(value)) return value.map(materialize);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: materialize(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

function lists(value: unknown, found: string[] = [], path = "$"): string[] {
  if (value instanceof JsonList) found.push(path);
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) lists(v, found, `${path}[${i}]`);
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) lists(v, found, `${path}.${k}`);
  return found;
}

/** The document parseJsonBody gives, unparsed lists and all. */
const lean = (body: Buffer | string) => parseJsonBody(Buffer.isBuffer(body) ? body : Buffer.from(body)).value;

/** JSON.parse's answer for `text`, or the error code, with every unparsed list read. */
function outcome(body: Buffer, text: string): { ok: unknown } | { error: string } {
  let expected: { ok: unknown } | { error: string };
  try {
    expected = { ok: JSON.parse(text) };
  } catch {
    expected = { error: "malformed_json" };
  }
  let got: { ok: unknown } | { error: string };
  try {
    const { value, lists } = parseJsonBody(body);
    readUnreadLists(lists);
    got = { ok: materialize(value) };
  } catch (e) {
    if (!(e instanceof PatchpilotError)) throw e;
    got = { error: e.code === "empty_body" ? "malformed_json" : e.code };
  }
  expect(got).toEqual(expected);
  return got;
}

function errorOf(f: () => unknown): PatchpilotError {
  try {
    f();
  } catch (e) {
    if (e instanceof PatchpilotError) return e;
    throw e;
  }
  throw new Error("expected a PatchpilotError");
}

const vulns = syntheticVulns(5);
const trivy = trivyReport({ image: "ghcr.io/acme/api:1", digest: digestOf(1), vulns });
const grype = grypeReport({ image: "ghcr.io/acme/api:1", digest: digestOf(1), vulns });

// Any JSON value, and the report shapes with any JSON where their findings lists and entries go.
const anyJson = fc.jsonValue({ maxDepth: 4 });
const reportLike = fc.oneof(
  anyJson,
  fc.record({ matches: fc.oneof(fc.array(anyJson), anyJson), source: anyJson }),
  fc.record({
    SchemaVersion: fc.constant(2),
    Results: fc.array(
      fc.record({ Target: fc.string(), Vulnerabilities: fc.oneof(fc.array(anyJson), anyJson) }),
    ),
  }),
  fc.array(fc.record({ Target: fc.string(), Vulnerabilities: fc.array(anyJson) })),
  fc.record({
    ClusterName: fc.string(),
    Resources: fc.array(fc.record({ Results: fc.array(fc.record({ Vulnerabilities: fc.array(anyJson) })) })),
  }),
);

describe("parseJsonBody", () => {
  it("leaves Trivy's and Grype's findings lists unparsed, and reads them as JSON.parse would", () => {
    const t = lean(JSON.stringify(trivy, null, 2));
    expect(lists(t)).toEqual(["$.Results[0].Vulnerabilities"]);
    expect(materialize(t)).toEqual(trivy);
    const g = lean(JSON.stringify(grype));
    expect(lists(g)).toEqual(["$.matches"]);
    expect(materialize(g)).toEqual(grype);
    const legacy = [{ Target: "app (debian 12)", Vulnerabilities: [{ VulnerabilityID: "CVE-1" }] }];
    expect(lists(lean(JSON.stringify(legacy)))).toEqual(["$[0].Vulnerabilities"]);
    const k8s = { ClusterName: "c", Resources: [{ Results: legacy }] };
    expect(lists(lean(JSON.stringify(k8s)))).toEqual(["$.Resources[0].Results[0].Vulnerabilities"]);
    // Lists of the same name elsewhere are parsed as usual.
    const elsewhere = { matches: { Results: legacy }, other: { matches: [1] } };
    expect(lists(lean(JSON.stringify(elsewhere)))).toEqual([]);
    // Parsed the lean way, a report gives the same findings as parsed whole.
    for (const doc of [trivy, grype]) {
      const read = parseScanReport(lean(JSON.stringify(doc)));
      expect(read).toEqual(parseScanReport(doc));
      expect(read.ok && read.report.findings.length).toBe(5);
    }
  });

  it("gives what JSON.parse gives for any JSON, compact or indented, with or without a BOM", () => {
    fc.assert(
      fc.property(reportLike, fc.constantFrom(undefined, 2, "\t"), fc.boolean(), (doc, indent, bom) => {
        const text = JSON.stringify(doc, null, indent);
        const body = Buffer.concat([
          bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0),
          Buffer.from(text),
        ]);
        expect(materialize(lean(body))).toEqual(JSON.parse(text));
      }),
      { numRuns: 400 },
    );
  });

  it("refuses broken JSON with the same message, wherever the damage is", () => {
    const text = JSON.stringify(grype);
    const cut = errorOf(() => lean(text.slice(0, text.length / 2)));
    expect(cut.code).toBe("malformed_json");
    expect(cut.message).toMatch(/is the file complete\?/);
    // Outside the list: the whole body is parsed for the message.
    const outside = errorOf(() => lean(text.replace('"descriptor":', '"descriptor" ')));
    expect(outside.code).toBe("malformed_json");
    // A list closed by the wrong bracket, a trailing comma, a missing entry.
    for (const broken of [
      '{"matches":[{"a":1}}',
      '{"matches":[{"a":1},]}',
      '{"matches":[,{"a":1}]}',
      '{"matches":[{"a":1}]]}',
    ]) {
      const err = errorOf(() => {
        materialize(lean(broken));
      });
      expect(err.code, broken).toBe("malformed_json");
    }
    // Inside one entry: found when the entry is read, before anything is stored.
    const bad = text.replace('"severity":"High"', '"severity":Hgh');
    const err = errorOf(() => parseScanReport(lean(bad)));
    expect(err.code).toBe("malformed_json");
    expect(err.message).toMatch(
      /^the body is not valid JSON \(in entries 1–5 of a findings list, bytes \d+–\d+: /,
    );
    expect(err.message).not.toMatch(/position/);
  });

  it("names the entries around a broken finding, whichever batch it is in, and keeps batches small", () => {
    const many = syntheticVulns(120);
    const text = JSON.stringify(
      grypeReport({ image: "ghcr.io/acme/api:1", digest: digestOf(3), vulns: many }),
    );
    const list = lean(text) as { matches: JsonList };
    const batches = (list.matches as unknown as { batches: number[] }).batches;
    expect(batches.length / 3).toBeGreaterThan(3);
    for (let k = 0; k < batches.length; k += 3) {
      // Small enough to stay out of V8's large-object space (128 KiB), however long the list.
      expect((batches[k + 1] ?? 0) - (batches[k] ?? 0)).toBeLessThan(JSON_LIST_BATCH_BYTES + 8 * 1024);
    }
    for (const broken of [1, 23, 24, 25, 60, 119, 120]) {
      const id = many[broken - 1]?.id ?? "";
      const bad = text.replace(`"id":"${id}"`, `"id":${id}`);
      expect(bad).not.toBe(text);
      const err = errorOf(() => materialize(lean(bad)));
      const m = /in entries (\d+)–(\d+) of a findings list/.exec(err.message);
      expect(m, err.message).not.toBeNull();
      expect(Number(m?.[1])).toBeLessThanOrEqual(broken);
      expect(Number(m?.[2])).toBeGreaterThanOrEqual(broken);
      expect(Number(m?.[2]) - Number(m?.[1])).toBeLessThan(60);
    }
  });

  it("refuses as JSON.parse does any byte-level damage to a report (property)", () => {
    const text = JSON.stringify(
      grypeReport({
        image: "ghcr.io/acme/api:1",
        digest: digestOf(2),
        vulns: syntheticVulns(60),
      }),
    );
    // Damage lands in every batch and at their boundaries.
    expect(text.length).toBeGreaterThan(2 * JSON_LIST_BATCH_BYTES);
    const pretty = JSON.stringify(trivy, null, 1);
    const damage = fc.record({
      doc: fc.constantFrom(text, pretty),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      cut: fc.integer({ min: 0, max: 3 }),
      insert: fc.constantFrom("", "[", "]", "{", "}", ",", ":", '"', "\\", " ", "0", "[]", "{}", ",,"),
    });
    fc.assert(
      fc.property(damage, ({ doc, at, cut, insert }) => {
        const i = Math.floor(at * doc.length);
        const broken = doc.slice(0, i) + insert + doc.slice(i + cut);
        outcome(Buffer.from(broken), broken);
      }),
      { numRuns: 600 },
    );
  });

  it("refuses the damage a batch, a key or a duplicate key would hide", () => {
    // Entries that fill a batch exactly: the comma after them ends it.
    const entries = `"${"x".repeat(JSON_LIST_BATCH_BYTES / 2 - 3)}",${"{}".padEnd(JSON_LIST_BATCH_BYTES / 2, " ")}`;
    expect(entries.length).toBe(JSON_LIST_BATCH_BYTES);
    for (const text of [
      `{"matches":[${entries},]}`, // a trailing comma after a whole batch
      `{"matches":[${entries}, ]}`,
      `{"matches":[${entries},,{}]}`,
      `{"matches":[${" ".repeat(JSON_LIST_BATCH_BYTES)},1]}`, // a blank entry as long as a batch
      `{"matches":[${entries},${" ".repeat(JSON_LIST_BATCH_BYTES + 1)},2]}`,
      '{"matches":[],[]:0}', // a list where a key belongs
      '{"matches":[1 2],"matches":[]}', // a broken list dropped by a duplicate key
      '{"SchemaVersion":2,"Results":[{"Vulnerabilities":[nope]}],"Results":[]}',
    ]) {
      expect(outcome(Buffer.from(text), text), text).toEqual({ error: "malformed_json" });
    }
    // A report refused for its format, or with lists no parser reads, is refused as broken JSON.
    for (const text of [
      '{"SchemaVersion":3,"Results":[{"Vulnerabilities":[nope]}]}',
      '[{"Vulnerabilities":[nope]}]',
      '{"SchemaVersion":2,"Results":[],"Resources":[{"Results":[{"Vulnerabilities":[nope]}]}]}',
    ]) {
      const { value, lists: unparsed } = parseJsonBody(Buffer.from(text));
      expect(errorOf(() => parseReportOrThrow(value, unparsed)).code, text).toBe("malformed_json");
    }
  });

  it("still refuses nesting past 128 levels, inside a findings list too", () => {
    const deep = `${"[".repeat(200)}${"]".repeat(200)}`;
    expect(errorOf(() => lean(deep)).code).toBe("too_deep");
    const inList = `{"matches":[${"[".repeat(200)}${"]".repeat(200)}]}`;
    expect(errorOf(() => lean(inList)).code).toBe("too_deep");
  });

  it("reads every shared Trivy and Grype fixture to the same findings as a whole parse", () => {
    const shared = join(import.meta.dirname, "../../../shared/fixtures");
    const files = ["trivy", "grype"].flatMap((d) =>
      existsSync(join(shared, d)) ? readdirSync(join(shared, d)).map((f) => join(shared, d, f)) : [],
    );
    if (files.length === 0) console.warn(`parse-json-body: ${shared} is absent, fixtures not read`);
    for (const file of files.filter((f) => f.endsWith(".json"))) {
      const bytes = readFileSync(file);
      expect(parseScanReport(lean(bytes)), file).toEqual(parseScanReport(JSON.parse(bytes.toString())));
    }
  });
});
