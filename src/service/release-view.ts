import type { ReleaseRecord, StageEventRecord } from "../store/index.js";

/** A release as the JSON API shows it: no spec body, no credentials in URLs, times as ISO strings. */
export function releaseSummaryView(release: ReleaseRecord, links: (id: string) => string) {
  return {
    id: release.id,
    pipeline: release.pipeline,
    repository: release.repository,
    commit: release.commit,
    branch: release.branch,
    status: release.status,
    stage: release.stage,
    supersededBy: release.supersededBy,
    attempts: release.attempts,
    rebuild: release.rebuild,
    createdAt: iso(release.createdAt),
    startedAt: iso(release.startedAt),
    finishedAt: iso(release.finishedAt),
    build: release.buildId === null ? null : { id: release.buildId },
    image: release.image,
    candidate: release.candidateArn === null ? null : { arn: release.candidateArn },
    canary: release.canary ?? (release.canaryJobId === null ? null : { jobId: release.canaryJobId }),
    production: release.production,
    error: release.error,
    url: links(release.id),
  };
}

export function releaseDetailView(release: ReleaseRecord, events: StageEventRecord[], links: (id: string) => string) {
  return { ...releaseSummaryView(release, links), stages: stagesOf(events), events: events.map(eventView) };
}

interface StageView {
  stage: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  outcome: string | null;
  detail: string | null;
}

/** One entry per stage run (a resumed release shows a stage once per attempt). */
function stagesOf(events: StageEventRecord[]): StageView[] {
  const stages: StageView[] = [];
  const open = new Map<string, StageView>();
  for (const event of events) {
    if (event.stage === null) continue;
    if (event.type === "stage-started") {
      const view: StageView = { stage: event.stage, startedAt: iso(event.at), finishedAt: null, durationMs: null, outcome: null, detail: null };
      stages.push(view);
      open.set(event.stage, view);
    } else if (event.type === "stage-finished") {
      const view = open.get(event.stage);
      if (view === undefined) continue;
      view.finishedAt = iso(event.at);
      view.durationMs = typeof event.data.durationMs === "number" ? event.data.durationMs : null;
      view.outcome = typeof event.data.outcome === "string" ? event.data.outcome : null;
      view.detail = typeof event.data.detail === "string" ? event.data.detail : null;
      open.delete(event.stage);
    }
  }
  return stages;
}

function eventView(event: StageEventRecord) {
  return { at: iso(event.at), type: event.type, ...(event.stage === null ? {} : { stage: event.stage }), ...event.data };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
