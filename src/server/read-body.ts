import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-error.js";

/**
 * The raw body, up to `limit` bytes. A declared Content-Length over the limit is refused
 * before a byte is read; a body that grows past it is refused as soon as it does. Either way
 * nothing more is read: the connection is closed after the 413.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        request.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new HttpError(400, "BODY_READ_FAILED", `Could not read the request body: ${error.message}`));
    };
    const cleanup = (): void => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "BODY_TOO_LARGE", `Request body over the limit of ${limit} bytes`, { connection: "close" });
}
