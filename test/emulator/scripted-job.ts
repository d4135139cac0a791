export const JOB_STATUSES = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** AWS's own wording for a job whose resource needs no compute environment on the queue can meet. */
export const STUCK_RUNNABLE_REASON =
  "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue.";
export const CONTAINER_EXITED_REASON = "Essential container in task exited";

export interface ChildFailure {
  exitCode: number;
  /** Fails at once, while the other children still run (`runFor`). */
  early?: boolean;
  reason: string;
}

/** What the tests asked to happen to jobs submitted on one queue. */
export interface JobScript {
  failures: Map<number, ChildFailure>;
  holdRunnable: boolean;
  /** DescribeJobs polls of the parent during which children show RUNNING. */
  runPolls: number;
}

export interface ChildState {
  status: JobStatus;
  reason?: string;
  exitCode?: number;
  /** Whether a container ever started (it has a log stream and a start time). */
  started: boolean;
  stoppedAt?: number;
}

export function isTerminal(status: JobStatus): boolean {
  return status === "SUCCEEDED" || status === "FAILED";
}

/**
 * One submitted job whose states the layer decides instead of moto. A single job is treated as
 * an array of one, child 0 being the job itself.
 */
export class ScriptedJob {
  /** DescribeJobs calls that have shown this parent; the clock of its scripted progress. */
  polls = 0;
  private readonly stopped = new Map<number, ChildState>();
  private stopReason: string | undefined;

  constructor(
    readonly jobId: string,
    readonly arraySize: number | undefined,
    private readonly script: JobScript,
  ) {}

  get childCount(): number {
    return this.arraySize ?? 1;
  }

  child(index: number): ChildState {
    const stopped = this.stopped.get(index);
    if (stopped) return stopped;
    if (this.script.holdRunnable) return { status: "RUNNABLE", reason: STUCK_RUNNABLE_REASON, started: false };
    const failure = this.script.failures.get(index);
    if (failure?.early === true) return { status: "FAILED", reason: failure.reason, exitCode: failure.exitCode, started: true };
    // `polls` already counts the DescribeJobs being answered: polls 1..runPolls show RUNNING.
    if (this.script.runPolls > 0 && this.polls <= this.script.runPolls) return { status: "RUNNING", started: true };
    if (failure) return { status: "FAILED", reason: failure.reason, exitCode: failure.exitCode, started: true };
    return { status: "SUCCEEDED", reason: CONTAINER_EXITED_REASON, exitCode: 0, started: true };
  }

  statusSummary(): Record<JobStatus, number> {
    const summary = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
    for (let i = 0; i < this.childCount; i++) summary[this.child(i).status]++;
    return summary;
  }

  /**
   * The parent's state, derived from its children as AWS does: PENDING while any child is
   * unfinished, then FAILED if any child failed, else SUCCEEDED.
   */
  parent(): ChildState {
    if (this.arraySize === undefined) return this.child(0);
    const summary = this.statusSummary();
    const unfinished = this.childCount - summary.SUCCEEDED - summary.FAILED;
    const started = summary.RUNNING + summary.STARTING + summary.SUCCEEDED + summary.FAILED > 0;
    if (unfinished > 0) return { status: "PENDING", started };
    if (summary.FAILED > 0) {
      const state: ChildState = { status: "FAILED", started };
      if (this.stopReason !== undefined) state.reason = this.stopReason;
      return state;
    }
    return { status: "SUCCEEDED", started };
  }

  /** CancelJob / TerminateJob: what has not finished fails with the reason; what has, stays. */
  stop(reason: string, index?: number): void {
    const indexes = index === undefined ? [...Array(this.childCount).keys()] : [index];
    let stoppedAny = false;
    for (const i of indexes) {
      const current = this.child(i);
      if (isTerminal(current.status)) continue;
      this.stopped.set(i, { status: "FAILED", reason, started: current.started, stoppedAt: Date.now() });
      stoppedAny = true;
    }
    if (index === undefined && stoppedAny) this.stopReason = reason;
  }
}
