import { userError } from "../core/errors.js";

const MAX_DEPTH = 128;

/**
 * JSON from an upload, with errors a person can act on. Nesting is bounded before parsing:
 * no scanner writes 128 levels, and a hostile document should not cost us a deep recursion.
 */
export function parseJsonBody(body: Buffer): unknown {
  let start = 0;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) start = 3;
  if (body.length - start === 0)
    throw userError("empty_body", "the body is empty; send the report's JSON", 400);
  let depth = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DEPTH) {
        throw userError(
          "too_deep",
          `the JSON is nested more than ${MAX_DEPTH} levels deep; this is not a scan report`,
          400,
        );
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  const text = body.toString("utf8", start);
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : "unparseable";
    const truncated = /end of JSON|Unterminated|Expected.*after/i.test(why) ? " — is the file complete?" : "";
    throw userError("malformed_json", `the body is not valid JSON (${why.slice(0, 200)})${truncated}`, 400);
  }
}
