import type { IncomingMessage } from "node:http";
import type { BodyBudget } from "./body-budget.js";
import { HttpError } from "./http-error.js";

export interface HeldBody {
  body: Buffer;
  /** Gives the body's bytes back to the budget; call once the body is no longer needed. */
  release(): void;
}

/**
 * The raw body, up to `limit` bytes, its bytes taken from `budget` for as long as it is held.
 * A declared Content-Length over the limit is refused before a byte is read (413), and so is
 * one the budget cannot hold now (503); a body without a declared length takes from the budget
 * as it arrives and is refused as soon as it passes either. After a refusal nothing more is kept. `onChunk` sees every chunk as it arrives (the
 * signature is computed on the way).
 */
export function readBody(request: IncomingMessage, options: { limit: number; budget: BodyBudget; onChunk?: (chunk: Buffer) => void }): Promise<HeldBody> {
  const { limit, budget } = options;
  const declaredText = request.headers["content-length"];
  const declared = declaredText === undefined ? undefined : Number(declaredText);
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge(limit));
  let taken = 0;
  const release = (): void => {
    budget.give(taken);
    taken = 0;
  };
  if (declared !== undefined) {
    if (!budget.take(declared, declared)) return Promise.reject(busy());
    taken = declared;
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const refuse = (error: HttpError): void => {
      cleanup();
      release();
      request.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return refuse(tooLarge(limit));
      if (declared === undefined) {
        if (!budget.take(chunk.length, size)) return refuse(busy());
        taken += chunk.length;
      }
      options.onChunk?.(chunk);
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ body: Buffer.concat(chunks, size), release });
    };
    const onError = (error: Error): void => refuse(new HttpError(400, "BODY_READ_FAILED", `Could not read the request body: ${error.message}`));
    // The client went away, or the server's request timeout cut it off, before the body ended.
    const onClose = (): void => refuse(new HttpError(408, "BODY_INCOMPLETE", "The connection closed before the request body ended", { connection: "close" }));
    const cleanup = (): void => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("close", onClose);
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
    request.on("close", onClose);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "BODY_TOO_LARGE", `Request body over the limit of ${limit} bytes`, { connection: "close" });
}

/**
 * The connection stays open: node reads what the sender still sends and drops it (no memory
 * held), so the sender sees the 503 instead of a reset; the request timeout ends a slow one.
 */
function busy(): HttpError {
  return new HttpError(503, "BODIES_OVER_BUDGET", "The service holds as many request bodies as it may; retry shortly", { "retry-after": "5" });
}
