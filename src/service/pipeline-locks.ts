/** A held pipeline. `release` is idempotent. */
export interface PipelineLease {
  readonly pipeline: string;
  /** What holds it, as a phrase for logs and the API's 409 ("release etl-0123456789ab is running"). */
  readonly holder: string;
  release(): void;
}

/**
 * One thing at a time per pipeline, in this process: a release (a worker), a reconcile, or a
 * promotion or rollback through the API. Each of them is a find-then-create in AWS (or a record
 * commit first, with GitOps) that is safe to repeat one after the other but not to run twice at
 * once: two at once could both find nothing and both register.
 *
 * Never waits: a caller that cannot have the pipeline now skips it (workers, reconciler) or
 * answers 409 (API). The data-dir lock makes "this process" mean "this data dir".
 */
export interface PipelineLocks {
  tryAcquire(pipeline: string, holder: string): PipelineLease | undefined;
  /** What holds the pipeline now, if anything. */
  holderOf(pipeline: string): string | undefined;
  /** The pipelines held now (a copy). */
  held(): Set<string>;
}

/** `onRelease` runs after each release, to wake whatever skipped the pipeline while it was held. */
export function createPipelineLocks(onRelease: (pipeline: string) => void = () => {}): PipelineLocks {
  const holders = new Map<string, PipelineLease>();
  return {
    tryAcquire(pipeline, holder) {
      if (holders.has(pipeline)) return undefined;
      let released = false;
      const lease: PipelineLease = {
        pipeline,
        holder,
        release() {
          if (released) return;
          released = true;
          holders.delete(pipeline);
          onRelease(pipeline);
        },
      };
      holders.set(pipeline, lease);
      return lease;
    },
    holderOf: (pipeline) => holders.get(pipeline)?.holder,
    held: () => new Set(holders.keys()),
  };
}
