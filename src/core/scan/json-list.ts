import { userError } from "../errors.js";

/** Entries parsed at once: one parse per entry cost more than a parse of the whole list. */
export const JSON_LIST_BATCH = 256;

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
     * Start and end offsets in `bytes` of each batch of `JSON_LIST_BATCH` entries (the last may
     * hold fewer), in pairs: from one entry's start to a later one's end, the entries with their
     * commas, a list once bracketed.
     */
    private readonly batches: readonly number[],
    readonly length: number,
  ) {}

  *[Symbol.iterator](): Iterator<unknown> {
    for (let k = 0; k < this.batches.length; k += 2) {
      yield* this.parseBatch(k / 2, this.batches[k] ?? 0, this.batches[k + 1] ?? 0);
    }
    this.#complete = true;
  }

  /** True once every entry has been read (and so found to be JSON). */
  get complete(): boolean {
    return this.#complete || this.length === 0;
  }

  private parseBatch(batch: number, start: number, end: number): unknown[] {
    try {
      return JSON.parse(`[${this.bytes.toString("utf8", start, end)}]`) as unknown[];
    } catch (e) {
      // V8's message points into the batch's own text; the entry numbers and bytes are the body's.
      const why = (e instanceof Error ? e.message : "unparseable").replace(
        /,? ?(in JSON )?at position \d+.*$/,
        "",
      );
      const first = batch * JSON_LIST_BATCH + 1;
      const last = Math.min(first + JSON_LIST_BATCH - 1, this.length);
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
