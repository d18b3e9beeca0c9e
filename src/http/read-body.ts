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
    throw userError("unsupported_encoding", "send the body as UTF-8 JSON, uncompressed or gzip", 415);
  }
  const source =
    encoding === "identity" ? req : req.pipe(encoding === "gzip" ? createGunzip() : createInflate());
  return await readChunks(source, limit, req);
}

function tooLarge(limit: number) {
  return userError("too_large", tooLargeMessage(limit), 413);
}

const incomplete = () =>
  userError("incomplete_body", "the request body ended before its declared length; send it again", 400);

function readDeclared(req: Request, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const body = Buffer.allocUnsafe(length);
    let filled = 0;
    // Node's parser never hands over more than Content-Length; anything else is an incomplete body.
    req.on("data", (chunk: Buffer) => {
      filled += chunk.copy(body, filled);
    });
    req.once("end", () => (filled === length ? resolve(body) : reject(incomplete())));
    req.once("close", () => {
      if (!req.complete) reject(incomplete());
    });
  });
}

function readChunks(source: NodeJS.ReadableStream, limit: number, req: Request): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      source.removeAllListeners("data");
      req.resume();
      reject(e);
    };
    source.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(tooLarge(limit));
      else chunks.push(chunk);
    });
    source.once("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    source.once("error", () =>
      fail(
        source === req
          ? incomplete()
          : userError("bad_compression", "the body is not valid gzip or deflate data; send it again", 400),
      ),
    );
    req.once("close", () => {
      if (!req.complete) fail(incomplete());
    });
  });
}
