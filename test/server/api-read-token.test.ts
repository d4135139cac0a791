import { afterEach, describe, expect, it } from "vitest";
import { apiRoutes, type ApiActions } from "../../src/server/api-routes.js";
import { createLogger } from "../../src/server/logger.js";
import { createRouter } from "../../src/server/router.js";
import { listenOn, type TestServer } from "./raw-http.js";

const API_TOKEN = "api-token-0123456789abcdef";
const READ_TOKEN = "read-token-0123456789abcdef";
const RELEASE = { id: "etl-0123456789ab", pipeline: "etl", production: { arn: "arn:aws:batch:us-east-1:123456789012:job-definition/etl:7" } };

const actions: ApiActions = {
  listReleases: () => [RELEASE],
  getRelease: (id) => (id === RELEASE.id ? RELEASE : undefined),
  promote: async () => ({ promoted: true }),
  rollback: async () => ({ rolledBack: true }),
  cancel: async () => ({ cancelled: true }),
  queueRelease: async () => ({ queued: true, release: RELEASE }),
  retry: () => ({ queued: true }),
};

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(apiToken: string | undefined, readToken: string | undefined): Promise<string> {
  server = await listenOn(createRouter(apiRoutes(actions, apiToken, readToken), createLogger({ write: () => undefined })));
  return `http://127.0.0.1:${server.port}`;
}

const get = (url: string, token?: string) => fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

describe("reading releases through the API", () => {
  it("is open without a read token, as the commit statuses' links expect", async () => {
    const url = await serve(API_TOKEN, undefined);
    expect((await get(`${url}/api/releases`)).status).toBe(200);
    expect((await get(`${url}/api/releases/${RELEASE.id}`)).status).toBe(200);
  });

  it("needs the read token (or the API token) once one is set, and shows nothing without it", async () => {
    const url = await serve(API_TOKEN, READ_TOKEN);
    for (const path of ["/api/releases", `/api/releases/${RELEASE.id}`, "/api/releases/no-such-release"]) {
      for (const token of [undefined, "wrong-token-0123456789abcdef", `${READ_TOKEN}x`]) {
        const response = await get(`${url}${path}`, token);
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe('Bearer realm="batchship"');
        const text = await response.text();
        expect(text).toContain("BATCHSHIP_READ_TOKEN");
        expect(text).not.toContain("123456789012");
      }
    }
    const list = await get(`${url}/api/releases`, READ_TOKEN);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ releases: [RELEASE] });
    expect((await get(`${url}/api/releases/${RELEASE.id}`, API_TOKEN)).status).toBe(200);
  });

  it("does not let the read token change production", async () => {
    const url = await serve(API_TOKEN, READ_TOKEN);
    for (const action of ["promote", "cancel", "retry"]) {
      const refused = await fetch(`${url}/api/releases/${RELEASE.id}/${action}`, { method: "POST", headers: { authorization: `Bearer ${READ_TOKEN}` } });
      expect(refused.status).toBe(401);
    }
    const allowed = await fetch(`${url}/api/releases/${RELEASE.id}/promote`, { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(allowed.status).toBe(200);
  });
});
