import type { Database } from "better-sqlite3";
import type { PipelineHolds } from "./pipeline-holds.js";
import type { NewRelease, ReleaseImage, ReleaseOutcome, ReleaseRecord, ReleaseState } from "./types.js";

interface ReleaseRow {
  id: string;
  seq: number;
  pipeline: string;
  repository: string;
  commit_sha: string;
  branch: string;
  clone_url: string;
  spec_json: string;
  delivery_id: string;
  status: ReleaseState;
  stage: string | null;
  superseded_by: string | null;
  attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  build_id: string | null;
  image_uri: string | null;
  image_digest: string | null;
  image_key: string | null;
  image_reused_from: string | null;
  image_reused_from_commit: string | null;
  rebuild: number;
  candidate_arn: string | null;
  canary_job_id: string | null;
  canary_json: string | null;
  production_arn: string | null;
  production_revision: number | null;
  error_json: string | null;
  retry: number;
}

export interface Claim {
  release: ReleaseRecord;
  /** Older queued releases of the same pipeline that will never run. */
  superseded: ReleaseRecord[];
}

/** The release table. Every write is one statement or one transaction; callers compose them. */
export interface ReleaseTable {
  /**
   * Queues a release. A commit pushed again while its release waits in the queue, or after it
   * was superseded, is queued again as the newest (a force push back to it); false when its
   * release runs or has run.
   */
  enqueue(release: NewRelease, now: number): boolean;
  /**
   * The newest queued release of the pipeline that has waited longest, among pipelines nothing
   * holds (pipeline-holds.ts); it becomes `running` and the older queued releases of its
   * pipeline `superseded`, in one transaction.
   */
  claimNext(now: number): Claim | undefined;
  listRunning(): ReleaseRecord[];
  /** The clone URLs of releases not over yet (queued, running, awaiting or in promotion): their mirrors are in use. */
  openCloneUrls(): string[];
  /** A running release picked up again after a restart: one more attempt. */
  resume(id: string, now: number): ReleaseRecord | undefined;
  get(id: string): ReleaseRecord | undefined;
  list(options: { pipeline?: string; limit: number }): ReleaseRecord[];
  setStage(id: string, stage: string, now: number): void;
  recordFacts(
    id: string,
    facts: Partial<Pick<ReleaseRow, "build_id" | "image_uri" | "image_digest" | "image_key" | "image_reused_from" | "candidate_arn" | "canary_job_id" | "canary_json">>,
    now: number,
  ): void;
  /** The commit of the newest release that built this image (`repository@sha256:…`), when one did. */
  commitThatBuilt(imageUri: string): string | undefined;
  finish(id: string, outcome: ReleaseOutcome, now: number): void;
  countByStatus(): Record<string, number>;
  /**
   * A promotion through the API begins: `awaiting-promotion` becomes `promoting`, in one
   * statement. False when the release is not awaiting promotion (another caller got there first).
   */
  beginPromotion(id: string, now: number): boolean;
  /** The promotion failed before it was recorded: back to `awaiting-promotion`. */
  abandonPromotion(id: string, now: number): void;
  /** At start: promotions a stopped process left `promoting` go back to `awaiting-promotion`. */
  abandonPromotions(now: number): number;
  /**
   * An explicit retry: a `failed` or `cancelled` release is `queued` again, marked to retry, in
   * one statement. False when it is in any other state (another retry got there first). It keeps
   * its place among its pipeline's pushes: a newer commit queued meanwhile still wins.
   */
  requeueForRetry(id: string, now: number): boolean;
  /** The retry's new attempt has begun: a later resume continues it rather than starting another. */
  clearRetry(id: string, now: number): void;
}

export function createReleaseTable(db: Database, holds: PipelineHolds): ReleaseTable {
  const insert = db.prepare(`
    INSERT INTO releases (id, seq, pipeline, repository, commit_sha, branch, clone_url, spec_json, delivery_id, rebuild, status, created_at, updated_at)
    VALUES (@id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM releases), @pipeline, @repository, @commit, @branch, @cloneUrl, @specJson, @deliveryId, @rebuild, 'queued', @now, @now)
    ON CONFLICT (id) DO UPDATE SET
      -- A commit pushed again is the newest push: a queued or superseded one moves to the end of
      -- the queue; anything else keeps its history.
      status = 'queued', seq = excluded.seq, superseded_by = NULL, finished_at = NULL, delivery_id = excluded.delivery_id,
      branch = excluded.branch, spec_json = excluded.spec_json, updated_at = excluded.updated_at,
      -- A rebuild asked for stays asked for when the same commit is pushed again.
      rebuild = MAX(releases.rebuild, excluded.rebuild)
    WHERE releases.status IN ('superseded', 'queued')`);
  const nextPipelines = db.prepare(`SELECT pipeline, MAX(seq) AS newest FROM releases WHERE status = 'queued' GROUP BY pipeline ORDER BY MIN(seq)`);
  const bySeq = db.prepare(`SELECT * FROM releases WHERE pipeline = ? AND seq = ?`);
  const olderQueued = db.prepare(`SELECT * FROM releases WHERE pipeline = ? AND status = 'queued' AND seq < ? ORDER BY seq`);
  const supersede = db.prepare(
    `UPDATE releases SET status = 'superseded', superseded_by = ?, finished_at = ?, updated_at = ? WHERE pipeline = ? AND status = 'queued' AND seq < ?`,
  );
  const start = db.prepare(`UPDATE releases SET status = 'running', started_at = COALESCE(started_at, ?), attempts = attempts + 1, updated_at = ? WHERE id = ?`);
  const running = db.prepare(`SELECT * FROM releases WHERE status = 'running' ORDER BY seq`);
  const openUrls = db.prepare(`SELECT DISTINCT clone_url FROM releases WHERE status IN ('queued', 'running', 'awaiting-promotion', 'promoting')`).pluck();
  const one = db.prepare(`SELECT * FROM releases WHERE id = ?`);
  const recent = db.prepare(`SELECT * FROM releases ORDER BY seq DESC LIMIT ?`);
  const recentOf = db.prepare(`SELECT * FROM releases WHERE pipeline = ? ORDER BY seq DESC LIMIT ?`);
  const stage = db.prepare(`UPDATE releases SET stage = ?, updated_at = ? WHERE id = ?`);
  const finish = db.prepare(`
    UPDATE releases SET status = @status, finished_at = @now, updated_at = @now, superseded_by = COALESCE(@supersededBy, superseded_by),
      build_id = COALESCE(@buildId, build_id), image_uri = COALESCE(@imageUri, image_uri), image_digest = COALESCE(@imageDigest, image_digest),
      image_key = COALESCE(@imageKey, image_key), image_reused_from = COALESCE(@imageReusedFrom, image_reused_from),
      image_reused_from_commit = COALESCE(@imageReusedFromCommit, image_reused_from_commit),
      candidate_arn = COALESCE(@candidateArn, candidate_arn), canary_json = COALESCE(@canaryJson, canary_json),
      production_arn = COALESCE(@productionArn, production_arn), production_revision = COALESCE(@productionRevision, production_revision),
      error_json = @errorJson, retry = 0
    WHERE id = @id`);
  const builtBy = db.prepare(
    `SELECT commit_sha FROM releases WHERE image_uri = ? AND build_id IS NOT NULL AND image_reused_from IS NULL ORDER BY seq DESC LIMIT 1`,
  );
  const counts = db.prepare(`SELECT status, COUNT(*) AS n FROM releases GROUP BY status`);
  const promoting = db.prepare(`UPDATE releases SET status = 'promoting', updated_at = ? WHERE id = ? AND status = 'awaiting-promotion'`);
  const unpromote = db.prepare(`UPDATE releases SET status = 'awaiting-promotion', updated_at = ? WHERE id = ? AND status = 'promoting'`);
  const unpromoteAll = db.prepare(`UPDATE releases SET status = 'awaiting-promotion', updated_at = ? WHERE status = 'promoting'`);
  const requeue = db.prepare(`
    UPDATE releases SET status = 'queued', retry = 1, stage = NULL, finished_at = NULL, error_json = NULL, updated_at = ?
    WHERE id = ? AND status IN ('failed', 'cancelled')`);
  const unretry = db.prepare(`UPDATE releases SET retry = 0, updated_at = ? WHERE id = ? AND retry = 1`);

  const claim = db.transaction((now: number): Claim | undefined => {
    const candidates = nextPipelines.all() as Array<{ pipeline: string; newest: number }>;
    // Every release that ends asks for the next: with nothing queued, that costs no look at the
    // holds (a thousand running releases each).
    if (candidates.length === 0) return undefined;
    const held = holds.blocking("release");
    const next = candidates.find((c) => !held.has(c.pipeline));
    if (next === undefined) return undefined;
    const row = bySeq.get(next.pipeline, next.newest) as ReleaseRow;
    const older = (olderQueued.all(next.pipeline, next.newest) as ReleaseRow[]).map(toRecord);
    supersede.run(row.id, now, now, next.pipeline, next.newest);
    start.run(now, now, row.id);
    const release = toRecord(one.get(row.id) as ReleaseRow);
    return { release, superseded: older.map((r) => ({ ...r, status: "superseded" as const, supersededBy: row.id })) };
  });

  return {
    enqueue: (release, now) => insert.run({ ...release, rebuild: release.rebuild === true ? 1 : 0, now }).changes > 0,
    claimNext: (now) => claim.immediate(now),
    listRunning: () => (running.all() as ReleaseRow[]).map(toRecord),
    openCloneUrls: () => openUrls.all() as string[],
    resume(id, now) {
      start.run(now, now, id);
      const row = one.get(id) as ReleaseRow | undefined;
      return row === undefined ? undefined : toRecord(row);
    },
    get(id) {
      const row = one.get(id) as ReleaseRow | undefined;
      return row === undefined ? undefined : toRecord(row);
    },
    list: ({ pipeline, limit }) =>
      ((pipeline === undefined ? recent.all(limit) : recentOf.all(pipeline, limit)) as ReleaseRow[]).map(toRecord),
    setStage: (id, name, now) => void stage.run(name, now, id),
    recordFacts(id, facts, now) {
      const keys = Object.keys(facts) as Array<keyof typeof facts>;
      if (keys.length === 0) return;
      // Column names come from the typed key list above, never from input.
      const sets = keys.map((k) => `${k} = @${k}`).join(", ");
      db.prepare(`UPDATE releases SET ${sets}, updated_at = @now WHERE id = @id`).run({ ...facts, now, id });
    },
    commitThatBuilt(imageUri) {
      const row = builtBy.get(imageUri) as { commit_sha: string } | undefined;
      return row?.commit_sha;
    },
    finish(id, outcome, now) {
      finish.run({
        id,
        now,
        status: outcome.status,
        supersededBy: outcome.supersededBy ?? null,
        buildId: outcome.buildId ?? null,
        imageUri: outcome.image?.uri ?? null,
        imageDigest: outcome.image?.digest ?? null,
        imageKey: outcome.image?.key ?? null,
        imageReusedFrom: outcome.image?.reusedFrom ?? null,
        imageReusedFromCommit: outcome.image?.reusedFromCommit ?? null,
        candidateArn: outcome.candidateArn ?? null,
        canaryJson: outcome.canary === undefined || outcome.canary === null ? null : JSON.stringify(outcome.canary),
        productionArn: outcome.production?.arn ?? null,
        productionRevision: outcome.production?.revision ?? null,
        errorJson: outcome.error ? JSON.stringify(outcome.error) : null,
      });
    },
    countByStatus() {
      const out: Record<string, number> = {};
      for (const { status, n } of counts.all() as Array<{ status: string; n: number }>) out[status] = n;
      return out;
    },
    beginPromotion: (id, now) => promoting.run(now, id).changes === 1,
    abandonPromotion: (id, now) => void unpromote.run(now, id),
    abandonPromotions: (now) => unpromoteAll.run(now).changes,
    requeueForRetry: (id, now) => requeue.run(now, id).changes === 1,
    clearRetry: (id, now) => void unretry.run(now, id),
  };
}

function toRecord(row: ReleaseRow): ReleaseRecord {
  return {
    id: row.id,
    seq: row.seq,
    pipeline: row.pipeline,
    repository: row.repository,
    commit: row.commit_sha,
    branch: row.branch,
    cloneUrl: row.clone_url,
    specJson: row.spec_json,
    deliveryId: row.delivery_id,
    rebuild: row.rebuild === 1,
    status: row.status,
    stage: row.stage,
    supersededBy: row.superseded_by,
    attempts: row.attempts,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
    buildId: row.build_id,
    image: row.image_uri && row.image_digest ? imageOf(row, row.image_uri, row.image_digest) : null,
    candidateArn: row.candidate_arn,
    canaryJobId: row.canary_job_id,
    canary: row.canary_json === null ? null : JSON.parse(row.canary_json),
    production: row.production_arn && row.production_revision !== null ? { arn: row.production_arn, revision: row.production_revision } : null,
    error: row.error_json === null ? null : JSON.parse(row.error_json),
    retry: row.retry === 1,
  };
}

function imageOf(row: ReleaseRow, uri: string, digest: string): ReleaseImage {
  return {
    uri,
    digest,
    ...(row.image_key === null ? {} : { key: row.image_key }),
    ...(row.image_reused_from === null ? {} : { reusedFrom: row.image_reused_from }),
    ...(row.image_reused_from_commit === null ? {} : { reusedFromCommit: row.image_reused_from_commit }),
  };
}
