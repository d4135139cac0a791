import type { Registry } from "prom-client";
import type { Route } from "./router.js";

/**
 * /healthz: the process answers. /readyz: it can do its job (`warnings`, when any, are for
 * operators and do not fail it). /metrics: Prometheus text.
 */
export function healthRoutes(options: { ready: () => { ok: boolean; checks: Record<string, boolean>; warnings?: string[] }; registry: Registry }): Route[] {
  return [
    { method: "GET", path: "/healthz", handler: () => ({ status: 200, body: { status: "ok" } }) },
    {
      method: "GET",
      path: "/readyz",
      handler() {
        const { ok, checks, warnings = [] } = options.ready();
        return { status: ok ? 200 : 503, body: { status: ok ? "ready" : "not ready", checks, ...(warnings.length > 0 ? { warnings } : {}) } };
      },
    },
    {
      method: "GET",
      path: "/metrics",
      handler: async () => ({
        status: 200,
        text: await options.registry.metrics(),
        headers: { "content-type": options.registry.contentType },
      }),
    },
  ];
}
