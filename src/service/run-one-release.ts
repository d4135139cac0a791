import { BatchshipError, isBatchshipError } from "../errors.js";
import type { MirrorCache } from "../git/mirror-cache.js";
import type { BuildSources } from "../release/content-key.js";
import type { ReleaseEvent } from "../release/events.js";
import { startedResult, type ReleaseResult } from "../release/result.js";
import { releaseIdFor } from "../release/release-id.js";
import { runRelease } from "../release/run-release.js";
import { errorFields, type Logger } from "../server/logger.js";
import { PipelineSpec } from "../spec/schema.js";
import type { ReleaseImage, ReleaseOutcome, ReleaseRecord } from "../store/index.js";
import type { ServiceState } from "./service-state.js";

/** What running a release takes of the service. */
export type ReleaseRunnerParts = Pick<ServiceState, "config" | "clock" | "logger" | "metrics" | "store" | "statuses" | "backends" | "ledgerFor" | "changes">;
import { recordEvents } from "./record-events.js";
import { engineContextFor } from "./engine-context-for.js";
import { abortableSleep, ShutdownError } from "./shutdown-guard.js";

const FETCH_ATTEMPTS = 3;
/**
 * A release that failed for a reason that may pass (AWS throttling that outlasted the engine's
 * own retries, a git host down) runs again, from where it stopped, after 4 and then 16 poll
 * intervals (1 and 4 minutes by default). It stays `running` meanwhile, so its pipeline waits,
 * unless a newer commit of the pipeline is queued: that one runs instead.
 */
const RELEASE_ATTEMPTS = 3;

/**
 * Drives one claimed release to its end: the commit into the mirror cache, then the engine.
 * The same function starts a release and resumes one after a restart; the engine finds what
 * an earlier run did in AWS. On shutdown the release is left `running`, to resume.
 */
export async function runOneRelease(state: ReleaseRunnerParts, mirrors: MirrorCache, release: ReleaseRecord, signal: AbortSignal): Promise<void> {
  const log = state.logger.child({ releaseId: release.id, pipeline: release.pipeline });
  const { store, statuses } = state;
  log.info(release.attempts > 1 ? "release resumed" : "release started", { commit: release.commit, branch: release.branch, attempt: release.attempts });
  const startedAt = state.clock();
  await store.batched(() => statuses.queue(release, { kind: "running", attempt: release.attempts }, startedAt));
  // The stage this run is in (`release.stage` is where the previous run was when this one was claimed).
  let stage = release.stage;
  const record = recordEvents(state, release.id, log);
  const sleep = abortableSleep(signal);
  let ended: { result: ReleaseResult; jobDefinition: string; internal: boolean };
  try {
    const spec = PipelineSpec.parse(JSON.parse(release.specJson));
    // An explicit retry (the API's) holds until its new attempt has begun.
    const retrying = { pending: release.retry };
    for (let attempt = 1; ; attempt++) {
      const result = await attemptRelease(state, mirrors, release, spec, retrying.pending, signal, log, (event) => {
        if (event.type === "stage-started") stage = event.stage;
        // The candidate now names the retry's attempt: a resume follows it instead of starting one more.
        if (event.type === "stage-started" && event.stage === "canary" && retrying.pending) {
          retrying.pending = false;
          store.releases.clearRetry(release.id, state.clock());
        }
        record(event);
      });
      const retry = result.status === "failed" && result.error?.retryable === true && attempt < RELEASE_ATTEMPTS;
      if (retry && !newerCommitQueued(state, release)) {
        const retryInMs = state.config.pollIntervalMs * 4 ** attempt;
        log.warn("release failed for a reason that may pass; running it again", { attempt, retryInMs, stage, errorCode: result.error?.code, error: result.error?.message });
        await sleep(retryInMs);
        if (!newerCommitQueued(state, release)) continue;
      }
      // The newest commit is what the pipeline runs next: running this one again would only delay it.
      if (retry) log.info("not running the release again: a newer commit of the pipeline is queued", { stage });
      ended = { result, jobDefinition: spec.jobDefinition.name, internal: false };
      break;
    }
  } catch (error) {
    // Not a failure: the engine recorded the stage as `interrupted`, and nothing is counted in
    // batchship_releases_total until the resumed release ends.
    if (error instanceof ShutdownError) {
      log.info("release paused for shutdown; it resumes on the next start", { stage });
      // Units commit in order: once this empty one has, so have the events recorded before it.
      await store.batched(() => undefined);
      return;
    }
    if (!isBatchshipError(error)) log.error("release crashed", errorFields(error));
    ended = { result: failedResult(release, error), jobDefinition: "", internal: !isBatchshipError(error) };
  }
  // Outside the try: a store that fails here (busy past its timeout) is the release's own
  // bookkeeping failing, not the release. It stays `running`, and the worker resumes it.
  await finish(state, release, ended.result, ended.jobDefinition, log, ended.internal);
}

/** One run of the release; a failure the engine reports, or a failed fetch, is a failed result. */
async function attemptRelease(
  state: ReleaseRunnerParts,
  mirrors: MirrorCache,
  release: ReleaseRecord,
  spec: PipelineSpec,
  retry: boolean,
  signal: AbortSignal,
  log: Logger,
  observe: (event: ReleaseEvent) => void,
): Promise<ReleaseResult> {
  let repositoryDir: string;
  let sources: BuildSources;
  try {
    repositoryDir = await fetchCommit(state, mirrors, release, signal, log);
    // Tree ids from the mirror: the image is reused when its content did not change.
    sources = await mirrors.buildSources(repositoryDir, release.commit, spec.image);
  } catch (error) {
    if (isBatchshipError(error)) return failedResult(release, error);
    throw error;
  }
  // A GitOps spec gets its ledger here, so the promotion is a record commit first.
  // The mirror's history: production moves only to the branch's head, and never back.
  const ctx = await engineContextFor(state, spec, { signal, observe, repositoryDir, history: mirrors.history(release.cloneUrl) });
  return runRelease(ctx, { spec, commit: release.commit, branch: release.branch, sources, ...(release.rebuild ? { rebuild: true } : {}), ...(retry ? { retry: true } : {}) });
}

function newerCommitQueued(state: ReleaseRunnerParts, release: ReleaseRecord): boolean {
  const [newest] = state.store.releases.list({ pipeline: release.pipeline, limit: 1 });
  return newest !== undefined && newest.seq > release.seq && newest.status === "queued";
}

/** The mirror holding the release's commit. */
async function fetchCommit(state: ReleaseRunnerParts, mirrors: MirrorCache, release: ReleaseRecord, signal: AbortSignal, log: Logger): Promise<string> {
  const sleep = abortableSleep(signal);
  for (let attempt = 1; ; attempt++) {
    try {
      return await mirrors.fetchCommit({ url: release.cloneUrl, branch: release.branch, commit: release.commit });
    } catch (error) {
      if (!(isBatchshipError(error) && error.retryable) || attempt >= FETCH_ATTEMPTS) throw error;
      log.warn("fetching the commit failed; retrying", { attempt, ...errorFields(error) });
      await sleep(state.config.pollIntervalMs * attempt);
    }
  }
}

/** Batched like the release's events, and after them: the row ends with the timeline complete. */
async function finish(state: ReleaseRunnerParts, release: ReleaseRecord, result: ReleaseResult, jobDefinition: string, log: Logger, internal = false): Promise<void> {
  const now = state.clock();
  await state.store.batched(() => {
    const image = imageOutcome(state, result.image);
    state.store.releases.finish(
      release.id,
      {
        status: storedStatus(result.status),
        ...(result.supersededBy === undefined ? {} : { supersededBy: supersederOf(release, result) }),
        buildId: result.build?.id ?? null,
        image,
        candidateArn: result.candidate?.arn ?? null,
        canary: result.canary,
        production: result.production,
        error: result.error ? { code: result.error.code, message: result.error.message, ...(result.error.hint ? { hint: result.error.hint } : {}) } : null,
      },
      now,
    );
    const superseded = result.status === "superseded" ? result.supersededBy : undefined;
    state.statuses.queue(
      release,
      internal ? { kind: "internal-error" } : superseded !== undefined ? { kind: "superseded", by: superseded.commit?.slice(0, 12) ?? "a deleted branch" } : { kind: "finished", result: { ...result, image }, jobDefinition },
      now,
    );
  });
  const status = storedStatus(result.status);
  state.metrics.releases.inc({ status });
  const fields = { status, ...(result.error ? { errorCode: result.error.code, error: result.error.message } : {}) };
  if (status === "failed") log.warn("release finished", fields);
  else if (status === "superseded") log.info("release finished", { ...fields, supersededBy: result.supersededBy?.commit ?? null, reason: result.supersededBy?.reason });
  else log.info("release finished", { ...fields, production: result.production?.arn ?? null });
}

/** A reused image names the commit that built it, when this service ran that commit's release. */
function imageOutcome(state: Pick<ServiceState, "store">, image: ReleaseResult["image"]): ReleaseImage | null {
  if (image === null || image.reusedFrom === undefined) return image;
  const commit = state.store.releases.commitThatBuilt(image.uri);
  return commit === undefined ? image : { ...image, reusedFromCommit: commit };
}

function failedResult(release: ReleaseRecord, error: unknown): ReleaseResult {
  const cause = isBatchshipError(error) ? error : new BatchshipError("ENVIRONMENT", `Release ${release.id} failed: ${error instanceof Error ? error.message : String(error)}`);
  const result = startedResult({ releaseId: release.id, pipeline: release.pipeline, commit: release.commit, branch: release.branch });
  return { ...result, error: cause.toJSON() };
}

/** The service always waits for the canary; any other engine status would be a bug, kept as failed. */
function storedStatus(status: string): ReleaseOutcome["status"] {
  return status === "promoted" || status === "awaiting-promotion" || status === "superseded" || status === "cancelled" ? status : "failed";
}

/** The release of the commit that won, named like the queue's own supersessions. */
function supersederOf(release: ReleaseRecord, result: ReleaseResult): string | null {
  const winner = result.supersededBy;
  if (winner === undefined || winner.commit === null) return null;
  return winner.releaseId ?? releaseIdFor(release.pipeline, winner.commit);
}
