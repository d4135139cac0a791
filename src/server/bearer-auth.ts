import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-error.js";

/** Checks `Authorization: Bearer <token>` in constant time (hashes first, so lengths do not leak either). */
export function createBearerCheck(token: string): (request: IncomingMessage) => void {
  const expected = digest(token);
  return (request) => {
    const header = request.headers.authorization ?? "";
    // The scheme is case-insensitive (RFC 7235: `bearer` and `BEARER` are Bearer too); the token is not.
    const match = /^Bearer +(\S.*)$/i.exec(header);
    if (match === null || !timingSafeEqual(digest(match[1] ?? ""), expected)) {
      throw new HttpError(401, "UNAUTHORIZED", "This endpoint needs Authorization: Bearer <BATCHSHIP_API_TOKEN>", {
        "www-authenticate": 'Bearer realm="batchship"',
      });
    }
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
