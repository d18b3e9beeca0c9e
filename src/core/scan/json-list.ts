import { userError } from "../errors.js";

/**
 * A JSON list left unparsed in the upload's bytes: each entry is parsed when it is reached and can
 * be dropped once read. A report's findings list (Trivy's `Vulnerabilities`, Grype's `matches`)
 * is most of its size; parsed whole it costs several times its bytes, read entry by entry only
 * what is kept of each (see `parseJsonBody`).
 *
 * Reading an entry that is not JSON throws the same `malformed_json` error as a broken body.
 */
export class JsonList implements Iterable<unknown> {
  constructor(
    private readonly bytes: Buffer,
    /** Start and end offsets of each entry in `bytes`, in pairs. */
    private readonly bounds: readonly number[],
  ) {}

  get length(): number {
    return this.bounds.length / 2;
  }

  *[Symbol.iterator](): Iterator<unknown> {
    // Entries are parsed a batch at a time: the bytes from one entry's start to a later one's end
    // are those entries with their commas, a list once bracketed. One parse per entry cost more.
    const count = this.length;
    for (let first = 0; first < count; first += BATCH) {
      const last = Math.min(first + BATCH, count) - 1;
      const start = this.bounds[2 * first] ?? 0;
      const end = this.bounds[2 * last + 1] ?? 0;
      yield* this.parseBatch(start, end);
    }
  }

  private parseBatch(start: number, end: number): unknown[] {
    const text = `[${this.bytes.toString("utf8", start, end)}]`;
    try {
      return JSON.parse(text) as unknown[];
    } catch (e) {
      const why = e instanceof Error ? e.message : "unparseable";
      throw userError(
        "malformed_json",
        `the body is not valid JSON (in the list at bytes ${start}–${end}: ${why.slice(0, 200)})`,
        400,
      );
    }
  }
}

const BATCH = 256;

/** True for a JSON list, parsed or not. */
export function isList(value: unknown): value is readonly unknown[] | JsonList {
  return Array.isArray(value) || value instanceof JsonList;
}

/** The entries of a list, parsed or not; anything else has none. */
export function listEntries(value: unknown): Iterable<unknown> {
  return isList(value) ? value : [];
}
