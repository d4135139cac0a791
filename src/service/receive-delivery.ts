import type { Reply } from "../server/respond.js";
import type { VerifiedDelivery } from "../server/webhook-route.js";
import { planDelivery } from "./plan-delivery.js";
import type { ServiceState } from "./service-state.js";

/** What receiving a delivery takes of the service, and whom it wakes. */
export type DeliveryReceiverParts = Pick<ServiceState, "config" | "clock" | "logger" | "metrics" | "store" | "statuses" | "pipelines"> & {
  wakeWorkers(): void;
  wakeReconciler(): void;
  /** Reloads in the background; reloads never overlap. */
  reloadPipelines(reason: string, options?: { pull?: boolean }): void;
};

/**
 * Records a verified delivery and what it queues in one transaction, committed before the
 * answer goes out; the releases run later. A delivery id seen before is answered as it was
 * the first time and queues nothing (GitHub's "Redeliver" button, or a retry after a timeout);
 * so is a copy of a push under another id (see `contentKey` in plan-delivery.ts).
 */
export async function receiveDelivery(state: DeliveryReceiverParts, delivery: VerifiedDelivery): Promise<Reply> {
  const { store, logger, metrics, statuses } = state;
  // No read before the write: the insert itself tells a redelivery apart, inside the commit, and
  // a duplicate is answered only once the first copy's commit is durable.
  const pipelines = state.pipelines.current();
  const plan = planDelivery(delivery.event, delivery.payload, {
    pipelines,
    configRepository: state.config.configRepository,
    githubUrl: state.config.githubUrl,
    configOrigin: state.pipelines.configOrigin(),
  });
  const written = await store.recordDelivery({
    delivery: {
      id: delivery.id,
      event: delivery.event,
      receivedAt: state.clock(),
      outcome: plan.outcome,
      httpStatus: plan.httpStatus,
      ...(plan.reason === undefined ? {} : { reason: plan.reason }),
      ...(plan.repository === undefined ? {} : { repository: plan.repository }),
      ...(plan.ref === undefined ? {} : { ref: plan.ref }),
      ...(plan.after === undefined ? {} : { after: plan.after }),
      ...(plan.contentKey === undefined ? {} : { contentKey: plan.contentKey }),
    },
    releases: plan.releases.map((release) => {
      const queuedStatus = statuses.reportFor(release, { kind: "queued" });
      return queuedStatus === undefined ? { release } : { release, queuedStatus };
    }),
    reconciles: plan.reconciles,
  });
  if (written.duplicateOf !== undefined) return duplicate(state, delivery, written.duplicateOf);

  metrics.deliveries.inc({ outcome: plan.outcome });
  // Accepted deliveries are in the store and the metrics, and their releases log as they run:
  // their line is debug, off the hot path. Ignored ones say why at info (a misconfigured webhook).
  (plan.outcome === "accepted" ? logger.debug : logger.info)(`delivery ${plan.outcome}`, {
    deliveryId: delivery.id,
    event: delivery.event,
    ...(plan.reason === undefined ? {} : { reason: plan.reason }),
    ...(plan.repository === undefined ? {} : { repository: plan.repository, ref: plan.ref, commit: plan.after }),
    releases: written.queued,
    ...(plan.reconciles.length > 0 ? { reconciles: plan.reconciles.map((r) => r.pipeline) } : {}),
  });
  if (written.queued.length > 0) state.wakeWorkers();
  if (plan.reconciles.length > 0) state.wakeReconciler();
  if (plan.reloadPipelines) state.reloadPipelines("push to the config repository", { pull: true });

  if (plan.httpStatus === 204) return { status: 204 };
  if (plan.outcome === "ping") return { status: 200, body: { delivery: delivery.id, event: "ping", message: "pong" } };
  return { status: 202, body: { delivery: delivery.id, releases: written.queued, ...(plan.reconciles.length > 0 ? { reconciles: plan.reconciles.map((r) => r.pipeline) } : {}) } };
}

function duplicate(state: Pick<ServiceState, "metrics" | "logger">, delivery: VerifiedDelivery, httpStatus: number): Reply {
  state.metrics.deliveries.inc({ outcome: "duplicate" });
  state.logger.info("delivery duplicate", { deliveryId: delivery.id, event: delivery.event });
  if (httpStatus === 204) return { status: 204 };
  return { status: httpStatus, body: { delivery: delivery.id, duplicate: true, releases: [] } };
}
