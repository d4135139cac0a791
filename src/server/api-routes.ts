import { createBearerCheck } from "./bearer-auth.js";
import { HttpError } from "./http-error.js";
import { readReleaseRequest, type ReleaseRequest } from "./release-request.js";
import type { Route } from "./router.js";

/** What the JSON API can do; the service implements it. */
export interface ApiActions {
  listReleases(options: { pipeline?: string; limit: number }): unknown;
  getRelease(id: string): unknown | undefined;
  /** `allowOlder`: take production back to a commit it already contains, on purpose. */
  promote(releaseId: string, options?: { allowOlder: boolean }): Promise<unknown>;
  rollback(pipeline: string): Promise<unknown>;
  /** Stops a running release's build or canary; its run then ends `cancelled`. */
  cancel(releaseId: string): Promise<unknown>;
  /** Queues the release of a branch head (`rebuild`: build even when the content key matches); `queued` is false when it already exists. */
  queueRelease(pipeline: string, request: ReleaseRequest): Promise<{ queued: boolean; release: unknown }>;
  /** Queues a failed or cancelled release again, to build again or run a new canary attempt. */
  retry(releaseId: string): unknown;
}

const MAX_LIMIT = 500;

/**
 * Reading is open (the commit statuses link here) unless a read token is configured: then it
 * needs that token or the API token, since releases show account ids, ARNs and error text.
 * Changing production needs the API token, and without a configured token those endpoints are
 * not served at all.
 */
export function apiRoutes(actions: ApiActions, apiToken: string | undefined, readToken?: string): Route[] {
  const reads = readRoutes(actions);
  const routes = readToken === undefined ? reads : guarded(reads, createBearerCheck([readToken, ...(apiToken === undefined ? [] : [apiToken])], "BATCHSHIP_READ_TOKEN or BATCHSHIP_API_TOKEN"));
  return [...routes, ...writeRoutes(actions, apiToken)];
}

function guarded(routes: Route[], check: ReturnType<typeof createBearerCheck>): Route[] {
  return routes.map((route) => ({
    ...route,
    handler: (request: Parameters<Route["handler"]>[0]) => {
      check(request.raw);
      return route.handler(request);
    },
  }));
}

function readRoutes(actions: ApiActions): Route[] {
  return [
    {
      method: "GET",
      path: "/api/releases",
      handler({ query }) {
        const limitText = query.get("limit") ?? "50";
        const limit = Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
          throw new HttpError(400, "BAD_LIMIT", `limit must be a whole number from 1 to ${MAX_LIMIT}`);
        }
        const pipeline = query.get("pipeline") ?? undefined;
        return { status: 200, body: { releases: actions.listReleases({ limit, ...(pipeline ? { pipeline } : {}) }) } };
      },
    },
    {
      method: "GET",
      path: "/api/releases/:id",
      handler({ params }) {
        const release = actions.getRelease(params.id ?? "");
        if (release === undefined) throw new HttpError(404, "RELEASE_NOT_FOUND", `No release ${params.id ?? ""}`);
        return { status: 200, body: release };
      },
    },
  ];
}

function writeRoutes(actions: ApiActions, apiToken: string | undefined): Route[] {
  const writes: Route[] = [
    {
      method: "POST",
      path: "/api/releases/:id/promote",
      handler: ({ params, query }) => actions.promote(params.id ?? "", { allowOlder: allowOlderOf(query) }).then((body) => ({ status: 200, body })),
    },
    { method: "POST", path: "/api/pipelines/:name/rollback", handler: ({ params }) => actions.rollback(params.name ?? "").then((body) => ({ status: 200, body })) },
    { method: "POST", path: "/api/releases/:id/cancel", handler: ({ params }) => actions.cancel(params.id ?? "").then((body) => ({ status: 200, body })) },
    {
      method: "POST",
      path: "/api/pipelines/:name/releases",
      handler: async ({ params, raw }) => {
        const { queued, release } = await actions.queueRelease(params.name ?? "", await readReleaseRequest(raw));
        return { status: queued ? 202 : 200, body: release };
      },
    },
    { method: "POST", path: "/api/releases/:id/retry", handler: ({ params }) => ({ status: 202, body: actions.retry(params.id ?? "") }) },
  ];
  if (apiToken === undefined) {
    return writes.map((route) => ({
      ...route,
      handler: () => {
        throw new HttpError(404, "API_DISABLED", "Not exposed: BATCHSHIP_API_TOKEN is not set");
      },
    }));
  }
  return guarded(writes, createBearerCheck([apiToken]));
}

function allowOlderOf(query: URLSearchParams): boolean {
  const value = query.get("allowOlder");
  if (value === null || value === "false") return false;
  if (value === "true") return true;
  throw new HttpError(400, "BAD_ALLOW_OLDER", "allowOlder must be true or false");
}
