import type { Registry } from "prom-client";
import type { Route } from "./router.js";

/** /healthz: the process answers. /readyz: it can do its job. /metrics: Prometheus text. */
export function healthRoutes(options: { ready: () => { ok: boolean; checks: Record<string, boolean> }; registry: Registry }): Route[] {
  return [
    { method: "GET", path: "/healthz", handler: () => ({ status: 200, body: { status: "ok" } }) },
    {
      method: "GET",
      path: "/readyz",
      handler() {
        const { ok, checks } = options.ready();
        return { status: ok ? 200 : 503, body: { status: ok ? "ready" : "not ready", checks } };
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
