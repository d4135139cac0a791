import type { ReleaseRecord } from "../store/index.js";

/**
 * Whether a running release holds its pipeline: only one that promotes automatically changes
 * production at its end, so only it may not run alongside a promotion or rollback through the
 * API or a reconcile. A manual one builds, registers a candidate and runs a canary, none of
 * which those touch; holding its pipeline would refuse every promotion through the API while
 * the next commit builds.
 */
export function releaseHoldsPipeline(release: Pick<ReleaseRecord, "specJson">): boolean {
  const spec = JSON.parse(release.specJson) as { promotion?: { mode?: string } };
  return spec.promotion?.mode !== "manual";
}
