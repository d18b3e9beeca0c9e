import { randomBytes } from "node:crypto";
import { userError } from "../core/errors.js";
import { JSON_LIST_BATCH_BYTES, JsonList } from "../core/scan/json-list.js";
import type { NormalizedReport } from "../core/scan/normalized-report.js";
import { parseReportOrThrow } from "../services/ingest-scan.js";

const MAX_DEPTH = 128;

/**
 * JSON from an upload, with errors a person can act on. Nesting is bounded before parsing:
 * no scanner writes 128 levels, and a hostile document should not cost us a deep recursion.
 *
 * A scan report's findings lists are left in the bytes as `JsonList`s, parsed a batch of entries
 * at a time as they are read: Trivy's `Vulnerabilities` (under `Results[]`, in the older bare list, and
 * under k8s `Resources[].Results[]`) and Grype's top-level `matches`. Parsed whole, a 25,000-finding
 * report took several times its size in memory; this way what stays is the body's bytes and
 * what the parser keeps of each finding. Any other document parses as `JSON.parse` would.
 */
export function parseJsonBody(body: Buffer): ParsedBody {
  let start = 0;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) start = 3;
  if (body.length - start === 0)
    throw userError("empty_body", "the body is empty; send the report's JSON", 400);
  const found = findingLists(body, start);
  if (found !== null && found.length > 0) {
    const lean = parseAround(body, start, found);
    if (lean !== undefined) return lean;
  }
  return { value: parseWhole(body, start), lists: [] };
}

/** The document, and the lists in it left unparsed (to be read, see `readUnreadLists`). */
export type ParsedBody = { value: unknown; lists: readonly JsonList[] };

/**
 * The scan report in an upload's body (see `parseReportOrThrow`). Nothing of the parse outlives
 * the call (unparsed lists hold the body's bytes), so the caller can let the body go after it.
 */
export function parseReportBody(body: Buffer): NormalizedReport {
  const { value, lists } = parseJsonBody(body);
  return parseReportOrThrow(value, lists);
}

function parseWhole(body: Buffer, start: number): unknown {
  const text = body.toString("utf8", start);
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : "unparseable";
    const truncated = /end of JSON|Unterminated|Expected.*after/i.test(why) ? " — is the file complete?" : "";
    throw userError("malformed_json", `the body is not valid JSON (${why.slice(0, 200)})${truncated}`, 400);
  }
}

/** A findings list's bytes: `[` at start, after `]` at end, its entries in batches. */
type FoundList = { start: number; end: number; batches: number[]; count: number };

/**
 * The document with each found list replaced by a `JsonList` over its bytes, or undefined when the
 * rest of it is not JSON (the whole body is then parsed, for the error message).
 */
function parseAround(body: Buffer, start: number, lists: FoundList[]): ParsedBody | undefined {
  const marker = `\u0000patchpilot-list-${randomBytes(8).toString("hex")}:`;
  const pieces: Buffer[] = [];
  let at = start;
  for (const [k, list] of lists.entries()) {
    pieces.push(body.subarray(at, list.start), Buffer.from(JSON.stringify(`${marker}${k}`)));
    at = list.end;
  }
  pieces.push(body.subarray(at));
  const revived: JsonList[] = [];
  try {
    const doc: unknown = JSON.parse(Buffer.concat(pieces).toString("utf8"), (_key, value) => {
      if (typeof value !== "string" || !value.startsWith(marker)) return value;
      const list = lists[Number(value.slice(marker.length))];
      if (list === undefined) return value;
      const lean = new JsonList(body, list.batches, list.count);
      revived.push(lean);
      return lean;
    });
    // A list dropped by a later duplicate key (or turned into a key) would never be read, so never
    // checked: parse the whole body instead.
    return revived.length === lists.length ? { value: doc, lists: revived } : undefined;
  } catch {
    return undefined;
  }
}

// Where a value sits, as far as finding lists go. Containers anywhere else are not looked into.
const OTHER = 0;
const ROOT = 1;
const FINDINGS = 2; // a list of findings: left unparsed
const RESULTS = 3; // Trivy's Results (and the legacy bare list): a list of results
const RESULT = 4; // one result: its Vulnerabilities are findings
const RESOURCES = 5; // Trivy k8s Resources (older: Vulnerabilities): a list of workloads
const RESOURCE = 6; // one workload: its Results are results

/** What the value of `key` is inside an object at `where`. */
function keyPlace(where: number, key: string): number {
  if (where === ROOT) {
    if (key === "matches") return FINDINGS;
    if (key === "Results") return RESULTS;
    if (key === "Resources" || key === "Vulnerabilities") return RESOURCES;
  } else if (where === RESULT) {
    if (key === "Vulnerabilities") return FINDINGS;
  } else if (where === RESOURCE) {
    if (key === "Results") return RESULTS;
  }
  return OTHER;
}

/** What an entry of a list at `where` is. */
function entryPlace(where: number): number {
  if (where === ROOT || where === RESULTS) return RESULT;
  if (where === RESOURCES) return RESOURCE;
  return OTHER;
}

/**
 * One pass over the bytes: the nesting limit, and the byte ranges of the findings lists and their
 * entries. Null when the bytes are not balanced JSON (unclosed strings or brackets, a list closed
 * by `}`); the whole-body parse then says what is wrong. Structural characters are ASCII and never
 * occur inside a UTF-8 multi-byte sequence, so bytes can be scanned without decoding.
 */
function findingLists(b: Buffer, from: number): FoundList[] | null {
  const isObject: boolean[] = [false];
  const place: number[] = [ROOT];
  let depth = 0;
  let valuePlace = ROOT; // the place of the next value, in an object (set by its key)
  let expectKey = false;
  let listDepth = -1; // depth of the findings list being walked, else -1
  let current: FoundList | null = null;
  let entryStart = 0;
  let batchStart = 0;
  let batchFirst = 0; // index in its list of the batch's first entry
  const found: FoundList[] = [];
  for (let i = from; i < b.length; i++) {
    const c = b[i];
    if (c === 0x22) {
      const keyStart = i + 1;
      i = closingQuote(b, keyStart);
      if (i < 0) return null;
      if (expectKey) {
        expectKey = false;
        const where = place[depth] ?? OTHER;
        valuePlace =
          where === OTHER || i - keyStart > 15 ? OTHER : keyPlace(where, b.toString("latin1", keyStart, i));
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) {
        throw userError(
          "too_deep",
          `the JSON is nested more than ${MAX_DEPTH} levels deep; this is not a scan report`,
          400,
        );
      }
      const parentPlace = place[depth - 1] ?? OTHER;
      const here =
        listDepth >= 0 || parentPlace === OTHER
          ? OTHER
          : depth === 1
            ? ROOT
            : isObject[depth - 1]
              ? valuePlace
              : entryPlace(parentPlace);
      isObject[depth] = c === 0x7b;
      place[depth] = here === FINDINGS ? OTHER : here;
      valuePlace = OTHER;
      if (c === 0x7b) expectKey = true;
      else if (here === FINDINGS) {
        listDepth = depth;
        current = { start: i, end: 0, batches: [], count: 0 };
        entryStart = i + 1;
        batchStart = i + 1;
        batchFirst = 0;
      }
    } else if (c === 0x2c) {
      valuePlace = OTHER;
      if (depth === listDepth && current !== null) {
        // A missing entry: a batch could be only blanks and parse as `[]` (JSON.parse says why).
        if (isBlank(b, entryStart, i)) return null;
        if (i - batchStart >= JSON_LIST_BATCH_BYTES) {
          current.batches.push(batchStart, i, batchFirst);
          batchStart = i + 1;
          batchFirst = current.count + 1;
        }
        current.count++;
        entryStart = i + 1;
      } else if (isObject[depth]) expectKey = true;
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === listDepth && current !== null) {
        if (c !== 0x5d) return null;
        if (!isBlank(b, entryStart, i)) {
          current.batches.push(batchStart, i, batchFirst);
          current.count++;
        } else if (current.count > 0) return null; // a trailing comma
        current.end = i + 1;
        found.push(current);
        current = null;
        listDepth = -1;
      }
      if (--depth < 0) return null;
      expectKey = false;
    }
  }
  return depth === 0 && listDepth === -1 ? found : null;
}

/** Where the string that starts at `from` ends (its closing quote), or -1 when it does not. */
function closingQuote(b: Buffer, from: number): number {
  for (let at = b.indexOf(0x22, from); at >= 0; at = b.indexOf(0x22, at + 1)) {
    // A quote ends the string unless an odd run of backslashes escapes it.
    let backslashes = 0;
    while (at - backslashes > from && b[at - backslashes - 1] === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

function isBlank(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}
