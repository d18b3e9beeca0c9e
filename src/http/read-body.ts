import { createGunzip, createInflate } from "node:zlib";
import type { Request } from "express";
import { userError } from "../core/errors.js";
import { tooLargeMessage } from "./api-errors.js";

/**
 * The request body as one Buffer, at most `limit` bytes after decompression. An uncompressed body
 * of declared length is read straight into a buffer of that size: collecting chunks and joining
 * them (as body-parser does) holds twice a large report at the end. gzip and deflate bodies are
 * inflated on the way in.
 */
export async function readBody(req: Request, limit: number): Promise<Buffer> {
  const encoding = contentEncoding(req);
  const declared = Number(req.header("content-length"));
  if (encoding === "identity" && Number.isSafeInteger(declared) && declared >= 0) {
    if (declared > limit) throw tooLarge(limit);
    return await readStream(req, req, { kind: "declared", body: Buffer.allocUnsafe(declared), filled: 0 });
  }
  if (encoding !== "identity" && encoding !== "gzip" && encoding !== "deflate") {
    req.resume();
    throw userError(
      "unsupported_encoding",
      `the body's Content-Encoding "${encoding.slice(0, 40)}" is not read: send the JSON uncompressed, gzip or deflate`,
      415,
    );
  }
  if (encoding === "identity") return await readStream(req, req, chunks(limit));
  const inflate = encoding === "gzip" ? createGunzip() : createInflate();
  req.pipe(inflate);
  try {
    return await readStream(inflate, req, chunks(limit));
  } finally {
    // Refused or done: nothing more is inflated (what is left of the body is drained unread).
    req.unpipe(inflate);
    inflate.destroy();
    req.resume();
  }
}

/** The body's Content-Encoding, lower case; "identity" when there is none. */
export function contentEncoding(req: Request): string {
  return (req.header("content-encoding") ?? "identity").trim().toLowerCase();
}

function tooLarge(limit: number) {
  return userError("too_large", tooLargeMessage(limit), 413);
}

const incomplete = () =>
  userError("incomplete_body", "the request body ended before its declared length; send it again", 400);

const chunks = (limit: number): Sink => ({ kind: "chunks", chunks: [], size: 0, limit });

type Sink =
  | { kind: "declared"; body: Buffer; filled: number }
  | { kind: "chunks"; chunks: Buffer[]; size: number; limit: number };

/**
 * The bytes of `source` (the request, or its inflated stream) into `sink`. The listeners go once
 * it settles: left on the request, they would keep the body alive after it is parsed.
 */
function readStream(source: NodeJS.ReadableStream, req: Request, sink: Sink): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let open: Sink | null = sink;
    const settle = (outcome: Error | null) => {
      source.removeListener("data", onData);
      source.removeListener("end", onEnd);
      source.removeListener("error", onError);
      req.removeListener("close", onClose);
      const read = open;
      open = null;
      if (outcome !== null || read === null) return reject(outcome ?? incomplete());
      // Node's parser never hands over more than Content-Length; anything else is incomplete.
      if (read.kind === "declared")
        return read.filled === read.body.length ? resolve(read.body) : reject(incomplete());
      resolve(Buffer.concat(read.chunks, read.size));
    };
    const onData = (chunk: Buffer) => {
      if (open?.kind === "declared") open.filled += chunk.copy(open.body, open.filled);
      else if (open?.kind === "chunks") {
        open.size += chunk.length;
        if (open.size <= open.limit) open.chunks.push(chunk);
        else {
          req.resume();
          settle(tooLarge(open.limit));
        }
      }
    };
    const onEnd = () => settle(null);
    const onError = () =>
      settle(
        source === req
          ? incomplete()
          : userError(
              "bad_compression",
              "the body is not valid gzip or deflate data, or it was cut short; send it again",
              400,
            ),
      );
    const onClose = () => {
      if (!req.complete) settle(incomplete());
    };
    source.on("data", onData);
    source.once("end", onEnd);
    source.once("error", onError);
    req.once("close", onClose);
  });
}
