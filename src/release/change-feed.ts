/**
 * Changes the engine may hear of between polls (an EventBridge rule feeding a queue, in AWS).
 * A change only ends the wait before the next poll early: what the engine judges is always what
 * the poll reads, so a lost, late or duplicated change costs time, never correctness.
 */

/** A canary job (the parent: a child's change is reported as its parent's) or a build. */
export interface ChangeSubject {
  kind: "job" | "build";
  id: string;
}

export interface Change {
  subject: ChangeSubject;
  /** The subject itself (not one of its children) was reported in an end state. */
  ended: boolean;
}

export interface ChangeFeed {
  /**
   * Collects changes about `subject` from now on. The engine watches before it polls, so a change
   * arriving between its poll and its wait is not missed.
   */
  watch(subject: ChangeSubject): ChangeWatch;
}

/** Whether changes can be heard now; while not (the queue cannot be read), the engine polls at the poll intervals. */
export interface ChangeFeedHealth {
  live(): boolean;
}

export interface ChangeWatch {
  /**
   * True as soon as a change arrived since the last `reset` (at once if one already had); false
   * when `signal` aborts first.
   */
  changed(signal: AbortSignal): Promise<boolean>;
  /** Whether changes can be heard now: while not, the wait is the poll interval. */
  live(): boolean;
  /** Whether a change since the last `reset` reported the subject itself ended. */
  endReported(): boolean;
  /** Forgets the changes so far: called right before a poll, which sees them. */
  reset(): void;
  close(): void;
}
