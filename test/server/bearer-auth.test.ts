import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { createBearerCheck } from "../../src/server/bearer-auth.js";
import { HttpError } from "../../src/server/http-error.js";

const TOKEN = "api-token-0123456789abcdef";
const check = createBearerCheck(TOKEN);
const withAuthorization = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

describe("the bearer check", () => {
  it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer   ${TOKEN}`])("accepts %s (the scheme is case-insensitive)", (header) => {
    expect(() => check(withAuthorization(header))).not.toThrow();
  });

  it.each([undefined, "", `Basic ${TOKEN}`, `Bearer${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.toUpperCase()}`, "Bearer "])("refuses %s with a 401", (header) => {
    let thrown: unknown;
    try {
      check(withAuthorization(header));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect(thrown).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });
});
