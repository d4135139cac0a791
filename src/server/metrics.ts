import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { recordEventLoopDelay } from "./event-loop-delay.js";

export interface ServiceMetrics {
  registry: Registry;
  deliveries: Counter<"outcome">;
  releases: Counter<"status">;
  stageDuration: Histogram<"stage" | "outcome">;
  statusReports: Counter<"result">;
  gitSourceCalls: Counter<"call">;
  /** Stops sampling the event loop. */
  stop(): void;
}

/**
 * The service's metrics in their own registry (no global default registry: two services in one
 * process, as in tests, do not share counters). Gauges read the store when scraped, so they are
 * right after a restart too.
 */
export function createMetrics(read: { queueDepth: () => number; running: () => number; pendingReports: () => number }): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "batchship_" });
  const eventLoopDelay = recordEventLoopDelay(registry);
  const deliveries = new Counter({
    name: "batchship_webhook_deliveries_total",
    help: "Webhook deliveries by outcome (accepted, ignored, ping, duplicate, rejected); caught-up: a branch moved without a delivery",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const releases = new Counter({
    name: "batchship_releases_total",
    help: "Releases by final status (promoted, awaiting-promotion, failed, cancelled, superseded)",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const stageDuration = new Histogram({
    name: "batchship_stage_duration_seconds",
    help: "Duration of release stages by outcome (done, reused, failed, interrupted by a shutdown)",
    labelNames: ["stage", "outcome"] as const,
    buckets: [0.1, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers: [registry],
  });
  const statusReports = new Counter({
    name: "batchship_status_reports_total",
    help: "Commit status posts to GitHub by result (sent, failed: retried, abandoned: after every retry, refused: a 4xx that a retry cannot help)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const gitSourceCalls = new Counter({
    name: "batchship_git_source_calls_total",
    help: "Git runs against the app repositories by call (fetch, ls-remote); releases of a commit already fetched run none",
    labelNames: ["call"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "batchship_release_queue_depth",
    help: "Releases queued and not yet running",
    registers: [registry],
    collect() {
      this.set(read.queueDepth());
    },
  });
  new Gauge({
    name: "batchship_releases_running",
    help: "Releases running now",
    registers: [registry],
    collect() {
      this.set(read.running());
    },
  });
  new Gauge({
    name: "batchship_status_reports_pending",
    help: "Commit statuses waiting to be sent to GitHub",
    registers: [registry],
    collect() {
      this.set(read.pendingReports());
    },
  });
  return { registry, deliveries, releases, stageDuration, statusReports, gitSourceCalls, stop: eventLoopDelay.stop };
}
