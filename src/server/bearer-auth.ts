import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-error.js";

/**
 * Checks `Authorization: Bearer <token>` against any of `tokens` in constant time (hashes first,
 * so lengths do not leak either; every token is compared, so which one matched does not either).
 */
export function createBearerCheck(tokens: string | readonly string[], named = "BATCHSHIP_API_TOKEN"): (request: IncomingMessage) => void {
  const expected = (typeof tokens === "string" ? [tokens] : tokens).map(digest);
  return (request) => {
    const header = request.headers.authorization ?? "";
    // The scheme is case-insensitive (RFC 7235: `bearer` and `BEARER` are Bearer too); the token is not.
    const match = /^Bearer +(\S.*)$/i.exec(header);
    const given = digest(match?.[1] ?? "");
    let matched = false;
    for (const token of expected) if (timingSafeEqual(given, token)) matched = true;
    if (match === null || !matched) {
      throw new HttpError(401, "UNAUTHORIZED", `This endpoint needs Authorization: Bearer <${named}>`, {
        "www-authenticate": 'Bearer realm="batchship"',
      });
    }
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
