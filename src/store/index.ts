export { openStore, type Store, type StoreSync } from "./open-store.js";
export type { Claim, ReleaseTable } from "./releases.js";
export * from "./types.js";
