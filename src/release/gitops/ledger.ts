import type { PromotionHold, ReleaseRecord } from "./record.js";

/**
 * The release ledger: where promotions, rollbacks and holds are written as commits, and where
 * the engine reads what production should run. The engine sees only this port; src/git
 * implements it with a working clone of the releases branch.
 */
export interface ReleaseLedger {
  /** Where a pipeline's record lives, for messages and reports (credentials never included). */
  where(pipeline: string): LedgerLocation;
  /** The record and hold as they are at the tip of the releases branch (fetched first). */
  read(pipeline: string): Promise<LedgerState>;
  /** Versions of the record, newest first, at most `limit`; unreadable versions are skipped. */
  history(pipeline: string, limit: number): Promise<LedgerEntry[]>;
  /**
   * Writes a change as one commit and pushes it. `decide` runs on the freshest tip, and again on
   * the new tip after a rejected push (someone else wrote first), so each attempt decides from
   * what is really there: a change already made is not made twice, and none is lost. Returns the
   * state after the push, and the new commit (null when `decide` asked for nothing).
   */
  update(pipeline: string, decide: LedgerDecision): Promise<{ state: LedgerState; commit: string | null }>;
}

export type LedgerDecision = (state: LedgerState, view: LedgerView) => Promise<LedgerChange | null>;

export interface LedgerView {
  history(limit: number): Promise<LedgerEntry[]>;
  /** Whether any version of the record ever named this release. */
  everRecorded(releaseId: string): Promise<boolean>;
}

export interface LedgerLocation {
  repository: string;
  branch: string;
  path: string;
  holdPath: string;
}

export interface LedgerState {
  record: ReleaseRecord | null;
  /** The last commit that changed the record file: identifies this version of the record. */
  recordCommit: string | null;
  hold: PromotionHold | null;
}

export interface LedgerEntry {
  commit: string;
  record: ReleaseRecord;
}

export interface LedgerChange {
  record?: ReleaseRecord;
  /** A hold to set, null to clear it, absent to leave it as it is. */
  hold?: PromotionHold | null;
  /** First line of the commit message. */
  subject: string;
  body?: string;
}
