/**
 * Canonical JSON as RFC 8785 (JCS) defines it: object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings written as ECMAScript's JSON.stringify writes them. Any JCS
 * library can therefore recompute an audit hash. Values JSON cannot carry exactly are refused
 * rather than dropped or coerced, because the hash must cover exactly what Postgres stores.
 */
export function canonicalJson(value: unknown): string {
  return write(value, "$", []);
}

// A lone surrogate has no UTF-8 form: Postgres refuses it and hashing would replace it.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

// Written for speed (verification hashes every row of the trail): plain loops and concatenation.
function write(value: unknown, path: string, ancestors: object[]): string {
  switch (typeof value) {
    case "string":
      if (LONE_SURROGATE.test(value)) throw refuse("a string with a lone surrogate", path);
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw refuse(`the number ${value}`, path);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (ancestors.includes(value)) throw refuse("a circular reference", path);
      ancestors.push(value);
      {
        const text = Array.isArray(value)
          ? writeArray(value, path, ancestors)
          : writeObject(value, path, ancestors);
        ancestors.pop();
        return text;
      }
    default:
      throw refuse(value === undefined ? "undefined" : `a ${typeof value}`, path);
  }
}

function writeArray(items: unknown[], path: string, ancestors: object[]): string {
  let text = "[";
  for (let i = 0; i < items.length; i++) {
    if (i > 0) text += ",";
    // A hole reads as undefined, which JSON.stringify would silently turn into null.
    text += write(i in items ? items[i] : undefined, `${path}[${i}]`, ancestors);
  }
  return `${text}]`;
}

function writeObject(obj: object, path: string, ancestors: object[]): string {
  const proto = Object.getPrototypeOf(obj);
  // Dates, Maps and class instances would change shape on the way through JSON.
  if (proto !== Object.prototype && proto !== null)
    throw refuse(`a ${obj.constructor?.name ?? "non-plain"} object`, path);
  const record = obj as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let text = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) text += ",";
    text += `${write(key, `${path} key`, ancestors)}:${write(record[key], `${path}.${key}`, ancestors)}`;
  }
  return `${text}}`;
}

function refuse(what: string, path: string): TypeError {
  return new TypeError(`canonicalJson cannot encode ${what} at ${path}`);
}
