import type { Backend } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";

/** One backend per kind for the service's lifetime: SDK clients keep their connections. */
export interface Backends {
  for(spec: PipelineSpec): Backend;
  /** SDK clients hold sockets open; a stopping service closes them so the process can exit. */
  destroy(): void;
  /** Deletes the local backend's logs of builds and jobs that ended before `cutoff`; counts per kind (none without a local backend). */
  pruneLogs(cutoff: number): Record<string, number>;
}

export function createBackends(create: (spec: PipelineSpec) => Backend): Backends {
  const byKind = new Map<string, Backend>();
  return {
    for(spec) {
      let backend = byKind.get(spec.build.backend);
      if (backend === undefined) {
        backend = create(spec);
        byKind.set(spec.build.backend, backend);
      }
      return backend;
    },
    destroy() {
      for (const backend of byKind.values()) destroyClients(backend);
    },
    pruneLogs(cutoff) {
      const pruned: Record<string, number> = {};
      for (const backend of byKind.values()) {
        const prune = (backend as { pruneLogs?: (cutoff: number) => Record<string, number> }).pruneLogs;
        for (const [kind, n] of Object.entries(prune?.(cutoff) ?? {})) pruned[kind] = (pruned[kind] ?? 0) + n;
      }
      return pruned;
    },
  };
}

function destroyClients(backend: Backend): void {
  const clients = (backend as { clients?: Record<string, unknown> }).clients;
  for (const client of Object.values(clients ?? {})) {
    if (typeof client === "object" && client !== null && "destroy" in client && typeof client.destroy === "function") client.destroy();
  }
}
