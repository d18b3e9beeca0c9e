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
  const encoding = (req.header("content-encoding") ?? "identity").trim().toLowerCase();
  const declared = Number(req.header("content-length"));
  if (encoding === "identity" && Number.isSafeInteger(declared) && declared >= 0) {
    if (declared > limit) throw tooLarge(limit);
    return await readDeclared(req, declared);
  }
  if (encoding !== "identity" && encoding !== "gzip" && encoding !== "deflate") {
    req.resume();
    throw userError(
      "unsupported_encoding",
      `the body's Content-Encoding "${encoding.slice(0, 40)}" is not read: send the JSON uncompressed, gzip or deflate`,
      415,
    );
  }
  if (encoding === "identity") return await readChunks(req, limit, req);
  const inflate = encoding === "gzip" ? createGunzip() : createInflate();
  req.pipe(inflate);
  try {
    return await readChunks(inflate, limit, req);
  } finally {
    // Refused or done: nothing more is inflated (what is left of the body is drained unread).
    req.unpipe(inflate);
    inflate.destroy();
    req.resume();
  }
}

function tooLarge(limit: number) {
  return userError("too_large", tooLargeMessage(limit), 413);
}

const incomplete = () =>
  userError("incomplete_body", "the request body ended before its declared length; send it again", 400);

function readDeclared(req: Request, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let body: Buffer | null = Buffer.allocUnsafe(length);
    let filled = 0;
    // Node's parser never hands over more than Content-Length; anything else is an incomplete body.
    const onData = (chunk: Buffer) => {
      if (body !== null) filled += chunk.copy(body, filled);
    };
    // The listeners go with the answer: left on the request, they would keep the body alive.
    const settle = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      const read = body;
      body = null;
      return read;
    };
    const onEnd = () => {
      const read = settle();
      if (read !== null && filled === length) resolve(read);
      else reject(incomplete());
    };
    const onClose = () => {
      if (req.complete) return;
      settle();
      reject(incomplete());
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("close", onClose);
  });
}

function readChunks(source: NodeJS.ReadableStream, limit: number, req: Request): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      source.removeListener("data", onData);
      source.removeListener("end", onEnd);
      source.removeListener("error", onError);
      req.removeListener("close", onClose);
      const read = chunks;
      chunks = [];
      return read;
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        settle();
        req.resume();
        reject(tooLarge(limit));
      }
    };
    const onEnd = () => resolve(Buffer.concat(settle(), size));
    const onError = () => {
      settle();
      reject(
        source === req
          ? incomplete()
          : userError("bad_compression", "the body is not valid gzip or deflate data; send it again", 400),
      );
    };
    const onClose = () => {
      if (req.complete) return;
      settle();
      reject(incomplete());
    };
    source.on("data", onData);
    source.once("end", onEnd);
    source.once("error", onError);
    req.once("close", onClose);
  });
}
