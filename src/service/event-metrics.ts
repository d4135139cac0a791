import { Counter, Gauge, type Registry } from "prom-client";
import type { ParsedEvent } from "../aws/change-events.js";

export interface EventMetrics {
  received(kind: ParsedEvent["kind"], at: number): void;
}

/** The events queue's metrics, in the service's registry: what arrives, and when last. */
export function createEventMetrics(registry: Registry): EventMetrics {
  const received = new Counter({
    name: "batchship_events_received_total",
    help: "Messages received from the events queue, by kind (job, build, ignored: another event type, malformed: dropped)",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const last = new Gauge({
    name: "batchship_events_last_received_timestamp_seconds",
    help: "When the last message came from the events queue (0: none yet); time() minus it is the last event's age",
    registers: [registry],
  });
  for (const kind of ["job", "build", "ignored", "malformed"] as const) received.inc({ kind }, 0);
  last.set(0);
  return {
    received(kind, at) {
      received.inc({ kind });
      last.set(at / 1000);
    },
  };
}
