import type { DeliveryTable } from "./deliveries.js";
import type { ReconcileTable } from "./reconciles.js";
import type { ReleaseTable } from "./releases.js";
import type { StatusReportTable } from "./status-reports.js";
import type { DeliveryRecord, NewReconcile, NewRelease, NewStatusReport } from "./types.js";

/** Everything one verified delivery writes, as plain data: it crosses to the store's writer thread. */
export interface DeliveryToRecord {
  delivery: DeliveryRecord;
  /** The releases the push asks for, each with the `queued` commit status to send (none without a GitHub token). */
  releases: Array<{ release: Omit<NewRelease, "deliveryId">; queuedStatus?: NewStatusReport }>;
  reconciles: Array<Omit<NewReconcile, "deliveryId">>;
}

export interface RecordedDelivery {
  /** A redelivery: the status its first copy was answered with. Nothing was written. */
  duplicateOf?: number;
  /** The releases queued now; one already known (the same commit pushed again) is not queued twice. */
  queued: string[];
}

export interface DeliveryTables {
  deliveries: DeliveryTable;
  releases: ReleaseTable;
  statusReports: StatusReportTable;
  reconciles: ReconcileTable;
}

/**
 * Records a delivery and what it queues. Run inside one transaction: the delivery id, and the
 * content key when there is one, are the idempotency keys, checked by the insert itself, so a
 * redelivery or a copy writes nothing.
 */
export function recordDelivery(tables: DeliveryTables, input: DeliveryToRecord): RecordedDelivery {
  const { delivery } = input;
  const now = delivery.receivedAt;
  if (!tables.deliveries.insertIfNew(delivery)) {
    return { duplicateOf: tables.deliveries.httpStatusOf(delivery.id, delivery.contentKey) ?? delivery.httpStatus, queued: [] };
  }
  const queued: string[] = [];
  for (const { release, queuedStatus } of input.releases) {
    if (!tables.releases.enqueue({ ...release, deliveryId: delivery.id }, now)) continue;
    queued.push(release.id);
    if (queuedStatus) tables.statusReports.enqueue(queuedStatus, now);
  }
  for (const reconcile of input.reconciles) tables.reconciles.enqueue({ ...reconcile, deliveryId: delivery.id }, now);
  return { queued };
}
