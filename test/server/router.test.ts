import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/server/logger.js";
import { createRouter, type Route } from "../../src/server/router.js";
import { listenOn, rawRequest, type TestServer } from "./raw-http.js";

const routes: Route[] = [
  { method: "GET", path: "/healthz", handler: () => ({ status: 200, body: { status: "ok" } }) },
  { method: "GET", path: "/api/releases/:id", handler: ({ params }) => ({ status: 200, body: { id: params.id } }) },
  { method: "POST", path: "/webhook", handler: () => ({ status: 202, body: {} }) },
  // A reply node:http refuses to write: writeHead throws on the newline.
  { method: "GET", path: "/bad-header", handler: () => ({ status: 200, headers: { "x-bad": "a\nb" }, body: {} }) },
];

let server: TestServer;
let logs: Record<string, unknown>[];

beforeEach(async () => {
  logs = [];
  const logger = createLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  server = await listenOn(createRouter(routes, logger));
});

afterEach(() => server.close());

const get = (target: string, method = "GET") => rawRequest(server.port, `${method} ${target} HTTP/1.1`);

describe("request targets", () => {
  it.each(["//", "///", "/\\", "//@/", "//@/healthz"])("GET %s gets a JSON 404 and the server keeps answering", async (target) => {
    const response = await get(target);
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((await get("/healthz")).status).toBe(200);
  });

  it("reads a path starting with // as a path, not as a host", async () => {
    expect((await get("//example.com/healthz")).status).toBe(404);
  });

  it("still routes an absolute-form target and empty segments", async () => {
    expect((await get("http://localhost/healthz")).status).toBe(200);
    expect(JSON.parse((await get("/api//releases/a%20b?x=1")).body)).toEqual({ id: "a b" });
  });

  it("answers 400 to a target that is no URL at all", async () => {
    const response = await get("http://[bad/healthz");
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: "BAD_REQUEST_TARGET" } });
  });

  it("answers 500 when the reply itself cannot be written, and keeps running", async () => {
    const response = await get("/bad-header");
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: "INTERNAL" } });
    expect(logs.find((l) => l.msg === "request failed")).toMatchObject({ path: "/bad-header" });
    expect((await get("/healthz")).status).toBe(200);
  });
});

describe("HEAD", () => {
  it("is answered wherever GET is, with GET's headers and no body", async () => {
    const got = await get("/healthz");
    const head = await get("/healthz", "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-type"]).toBe(got.headers["content-type"]);
    expect(head.headers["content-length"]).toBe(got.headers["content-length"]);
    expect(head.body).toBe("");
  });

  it("is listed in Allow next to GET, and refused where only POST is", async () => {
    expect((await get("/healthz", "POST")).headers.allow).toBe("GET, HEAD");
    const head = await get("/webhook", "HEAD");
    expect(head.status).toBe(405);
    expect(head.headers.allow).toBe("POST");
    expect(head.body).toBe("");
  });
});
