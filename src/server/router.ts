import type { IncomingMessage, ServerResponse } from "node:http";
import { BatchshipError } from "../errors.js";
import { HttpError } from "./http-error.js";
import { errorFields, type Logger } from "./logger.js";
import { send, type Reply } from "./respond.js";

export interface RouteRequest {
  raw: IncomingMessage;
  /** Path parameters (`:id`), URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
}

export type RouteHandler = (request: RouteRequest) => Promise<Reply> | Reply;

export interface Route {
  method: "GET" | "POST";
  /** `/api/releases/:id`; segments starting with `:` are parameters. */
  path: string;
  handler: RouteHandler;
}

/**
 * The HTTP rules, once: 404 for an unknown path, 405 (with Allow) for a known path and another
 * method, HEAD answered wherever GET is, and every thrown error turned into a JSON error
 * response. A BatchshipError maps by its code; anything else is a 500 whose details go to the
 * log, not to the client.
 */
export function createRouter(routes: readonly Route[], logger: Logger): (request: IncomingMessage, response: ServerResponse) => void {
  const compiled = routes.map((route) => ({ ...route, segments: route.path.split("/").filter(Boolean) }));
  return (request, response) => {
    let path: string | undefined;
    // Everything, parsing included, runs inside the promise: a throw in a request listener is
    // uncaught and would end the process, so any client could stop the service.
    const run = async (): Promise<Reply> => {
      const url = parseTarget(request.url ?? "/");
      if (url === undefined) throw new HttpError(400, "BAD_REQUEST_TARGET", "The request target is not a valid path");
      path = url.pathname;
      const segments = url.pathname.split("/").filter(Boolean);
      const matches = compiled
        .map((route) => ({ route, params: match(route.segments, segments) }))
        .filter((m): m is { route: (typeof compiled)[number]; params: Record<string, string> } => m.params !== undefined);
      if (matches.length === 0) throw new HttpError(404, "NOT_FOUND", `No route for ${url.pathname}`);
      // HEAD is GET without the body (node:http drops the body of a HEAD response; the headers stay).
      const method = request.method === "HEAD" ? "GET" : request.method;
      const found = matches.find((m) => m.route.method === method);
      if (found === undefined) {
        const methods = new Set(matches.flatMap((m) => (m.route.method === "GET" ? ["GET", "HEAD"] : [m.route.method])));
        throw new HttpError(405, "METHOD_NOT_ALLOWED", `${request.method ?? "?"} is not allowed on ${url.pathname}`, { allow: [...methods].join(", ") });
      }
      return found.route.handler({ raw: request, params: found.params, query: url.searchParams });
    };

    run()
      .then((reply) => send(response, reply))
      .catch((error: unknown) => {
        const reply = errorReply(error);
        // A refusal the service chose (an HttpError: 503 over budget) is no failure of its own.
        if (reply.status >= 500 && !(error instanceof HttpError)) logger.error("request failed", { method: request.method, path, ...errorFields(error) });
        send(response, reply);
        // A refused body is not drained: the connection goes instead.
        if (reply.headers?.connection === "close") response.once("finish", () => request.socket.destroy());
      })
      .catch((error: unknown) => {
        // Not even the error response could be written (headers already out, say): drop the
        // connection rather than leave an unhandled rejection, which would end the process.
        response.destroy();
        logger.error("response failed", { method: request.method, path, ...errorFields(error) });
      });
  };
}

// A plain path (what GitHub and API clients send) is split by hand; anything else goes through URL.
const PLAIN_PATH = /^\/[A-Za-z0-9._~\/-]*$/;

/** The path and query of a request target, or undefined when it cannot be read as one. */
function parseTarget(target: string): { pathname: string; searchParams: URLSearchParams } | undefined {
  const q = target.indexOf("?");
  const pathname = q === -1 ? target : target.slice(0, q);
  if (PLAIN_PATH.test(pathname) && !pathname.includes("/.") && !pathname.includes("//") && !target.includes("#")) {
    return { pathname, searchParams: new URLSearchParams(q === -1 ? "" : target.slice(q + 1)) };
  }
  try {
    // An origin-form target ("/path?query") is appended to a base, not resolved against it:
    // resolved, "//" throws and "//host/path" would name a host.
    const url = target.startsWith("/") ? new URL(`http://localhost${target}`) : new URL(target);
    return { pathname: url.pathname, searchParams: url.searchParams };
  } catch {
    return undefined;
  }
}

function match(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] ?? "";
    const a = actual[i] ?? "";
    if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(a);
      } catch {
        return undefined;
      }
    } else if (p !== a) return undefined;
  }
  return params;
}

const STATUS_BY_CODE: Record<string, number> = {
  USAGE: 400,
  SPEC_INVALID: 400,
  NOT_PROMOTABLE: 409,
  NOTHING_TO_ROLL_BACK: 409,
  NOTHING_TO_CANCEL: 409,
  GIT: 502,
  AWS: 502,
  ENVIRONMENT: 502,
};

function errorReply(error: unknown): Reply {
  if (error instanceof HttpError) {
    return { status: error.status, headers: error.headers, body: { error: { code: error.code, message: error.message } } };
  }
  if (error instanceof BatchshipError) {
    return {
      status: STATUS_BY_CODE[error.code] ?? 500,
      body: { error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } },
    };
  }
  return { status: 500, body: { error: { code: "INTERNAL", message: "Internal error; see the service log" } } };
}
