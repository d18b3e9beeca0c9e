import { userError } from "../errors.js";

/**
 * Bytes of entries parsed at once: a batch ends at the first entry boundary past this many bytes.
 * One parse per entry costs more than a parse of the whole list; a batch's text past V8's
 * largest regular heap object (128 KiB) is made in large-object space, and decoding it was then
 * ten times slower (216 against 2,000+ MB/s here) and the largest cost of an upload.
 */
export const JSON_LIST_BATCH_BYTES = 64 * 1024;

/**
 * A JSON list left unparsed in the upload's bytes: its entries are parsed a batch at a time when
 * it is read, and each batch can be dropped once read. A report's findings list (Trivy's
 * `Vulnerabilities`, Grype's `matches`) is most of its size; parsed whole it costs several times
 * its bytes, read this way about what is kept of each entry (see `parseJsonBody`).
 *
 * Reading an entry that is not JSON throws the same `malformed_json` error as a broken body.
 */
export class JsonList implements Iterable<unknown> {
  #complete = false;

  constructor(
    private readonly bytes: Buffer,
    /**
     * Each batch as three numbers: its start and end offsets in `bytes` (from one entry's start
     * to a later one's end, the entries with their commas, a list once bracketed) and the index
     * of its first entry in the list.
     */
    private readonly batches: readonly number[],
    readonly length: number,
  ) {}

  *[Symbol.iterator](): Iterator<unknown> {
    for (let k = 0; k < this.batches.length; k += 3) {
      // Entries first to last (1-based) of the list, for an error message.
      const first = (this.batches[k + 2] ?? 0) + 1;
      const last = this.batches[k + 5] ?? this.length;
      yield* this.parseBatch(first, last, this.batches[k] ?? 0, this.batches[k + 1] ?? 0);
    }
    this.#complete = true;
  }

  /** True once every entry has been read (and so found to be JSON). */
  get complete(): boolean {
    return this.#complete || this.length === 0;
  }

  private parseBatch(first: number, last: number, start: number, end: number): unknown[] {
    try {
      return JSON.parse(`[${this.bytes.toString("utf8", start, end)}]`) as unknown[];
    } catch (e) {
      // V8's message points into the batch's own text; the entry numbers and bytes are the body's.
      const why = (e instanceof Error ? e.message : "unparseable").replace(
        /,? ?(in JSON )?at position \d+.*$/,
        "",
      );
      throw userError(
        "malformed_json",
        `the body is not valid JSON (in entries ${first}–${last} of a findings list, bytes ${start}–${end}: ${why.slice(0, 200)})`,
        400,
      );
    }
  }
}

/** True for a JSON list, parsed or not. */
export function isList(value: unknown): value is readonly unknown[] | JsonList {
  return Array.isArray(value) || value instanceof JsonList;
}

/** The entries of a list, parsed or not; anything else has none. */
export function listEntries(value: unknown): Iterable<unknown> {
  return isList(value) ? value : [];
}

/**
 * Reads every list not read yet (a report refused before its findings were reached, a list in a
 * part of the document no parser looks at), so that a body that is not JSON is refused as such
 * wherever the damage is. Throws `malformed_json`.
 */
export function readUnreadLists(lists: readonly JsonList[]): void {
  for (const list of lists) if (!list.complete) for (const _ of list);
}
