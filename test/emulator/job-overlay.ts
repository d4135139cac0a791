import type { JobLifecycle } from "./job-scripts.js";
import { isTerminal, type ChildState, type ScriptedJob } from "./scripted-job.js";

/**
 * Rewrites moto's job JSON (DescribeJobs `jobs[]`, ListJobs `jobSummaryList[]`) so scripted jobs
 * show their scripted state, consistently between parent, children and both operations.
 * Jobs nobody scripted pass through as moto reported them.
 */
export function overlayJobDetail(lifecycle: JobLifecycle, detail: any): any {
  const found = lifecycle.locate(String(detail.jobId));
  if (!found) return detail;
  const { job, index } = found;
  const state = stateOf(job, index);
  const out = applyCommon({ ...detail }, state);

  if (index === undefined && job.arraySize !== undefined) {
    const { summary, at } = job.summaryView();
    out.arrayProperties = { ...detail.arrayProperties, size: job.arraySize, statusSummary: summary, statusSummaryLastUpdatedAt: at };
    return out;
  }
  if (index !== undefined) out.arrayProperties = { ...detail.arrayProperties, index };
  out.container = applyContainer({ ...detail.container }, state);
  out.attempts = state.started && isTerminal(state.status) ? lastAttemptEnded(detail.attempts, state) : [];
  return out;
}

export function overlayJobSummary(lifecycle: JobLifecycle, summary: any): any {
  const found = lifecycle.locate(String(summary.jobId));
  if (!found) return summary;
  const { job, index } = found;
  const state = stateOf(job, index);
  const out = applyCommon({ ...summary }, state);
  if (index === undefined && job.arraySize !== undefined) {
    out.arrayProperties = { size: job.arraySize };
  } else {
    if (index !== undefined) out.arrayProperties = { index };
    out.container = applyContainer({ ...summary.container }, state);
  }
  return out;
}

/** The overlaid status of any job id, for filtering lists (undefined: not scripted). */
export function scriptedStatus(lifecycle: JobLifecycle, jobId: string): string | undefined {
  const found = lifecycle.locate(jobId);
  return found ? stateOf(found.job, found.index).status : undefined;
}

function stateOf(job: ScriptedJob, index: number | undefined): ChildState {
  return index === undefined ? job.parent() : job.child(index);
}

function applyCommon(out: any, state: ChildState): any {
  out.status = state.status;
  setOrDelete(out, "statusReason", state.reason);
  if (!state.started) delete out.startedAt;
  if (!isTerminal(state.status)) delete out.stoppedAt;
  else if (state.stoppedAt !== undefined) out.stoppedAt = state.stoppedAt;
  return out;
}

function applyContainer(container: any, state: ChildState): any {
  setOrDelete(container, "exitCode", state.exitCode);
  // A container that never started has no log stream yet.
  if (!state.started) delete container.logStreamName;
  return container;
}

function lastAttemptEnded(attempts: unknown, state: ChildState): any[] {
  if (!Array.isArray(attempts) || attempts.length === 0) return [];
  const copy = attempts.map((a: any) => ({ ...a, container: { ...a.container } }));
  const last = copy[copy.length - 1];
  setOrDelete(last.container, "exitCode", state.exitCode);
  setOrDelete(last, "statusReason", state.reason);
  return copy;
}

function setOrDelete(target: any, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}
