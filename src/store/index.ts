export { openStore, type Store, type StoreHealth, type StoreSync } from "./open-store.js";
export type { HoldKind, PipelineHolds, PipelineLease } from "./pipeline-holds.js";
export type { ReconcileRun, ReconcileTable } from "./reconciles.js";
export type { Claim, ReleaseTable } from "./releases.js";
export * from "./types.js";
export type { DeliveryToRecord, RecordedDelivery } from "./record-delivery.js";
