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
  /** Milliseconds after submission during which children show RUNNING, polled or not. */
  runMs: number;
  /** Set by `holdRunning`: children show RUNNING while the gate is closed. */
  runGate?: { open: boolean };
  /** The parent's statusSummary shows the children as they were this many polls earlier. */
  summaryLagPolls: number;
  /** For this many polls after the parent ended, its statusSummary misses one ended child. */
  summaryUndercountPolls: number;
  /** Cancel/TerminateJob take effect on the children this many polls of the parent later. */
  stopDelayPolls: number;
}

/** The parent's statusSummary as DescribeJobs shows it, with statusSummaryLastUpdatedAt. */
export interface SummaryView {
  summary: Record<JobStatus, number>;
  /** Epoch milliseconds. */
  at: number;
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
  /** A stop asked for but not yet applied to the children (AWS stops an array asynchronously). */
  private pendingStop: { reason: string; index: number | undefined; atPoll: number } | undefined;
  /** The summary after each poll, oldest first: what a lagging statusSummary shows. */
  private readonly summaries: SummaryView[] = [];
  /** When the parent was first seen SUCCEEDED or FAILED: its stoppedAt. */
  private endedAt: number | undefined;
  private endedAtPoll: number | undefined;
  private lastTick = 0;
  readonly submittedAt = Date.now();
  /** The last poll that shows the children RUNNING (`runFor`), once a test ended the run early. */
  private runEndsAtPoll: number | undefined;

  constructor(
    readonly jobId: string,
    readonly arraySize: number | undefined,
    private readonly script: JobScript,
  ) {}

  get childCount(): number {
    return this.arraySize ?? 1;
  }

  /**
   * One DescribeJobs of the parent: the clock of its scripted progress. Applies a stop that has
   * become due and keeps the summary of this moment for a lagging statusSummary.
   */
  observe(): void {
    this.polls++;
    if (this.pendingStop && this.polls >= this.pendingStop.atPoll) {
      const { reason, index } = this.pendingStop;
      this.pendingStop = undefined;
      this.applyStop(reason, index);
    }
    const at = this.tick();
    this.noteEnd(at);
    this.summaries.push({ summary: this.statusSummary(), at });
  }

  /**
   * The statusSummary DescribeJobs shows: current unless scripted to lag (the children as they
   * were some polls ago, with that moment's time) or to miss a child that has ended.
   */
  summaryView(): SummaryView {
    const latest = this.summaries.at(-1) ?? { summary: this.statusSummary(), at: this.tick() };
    const lag = this.script.summaryLagPolls;
    if (lag > 0 && this.summaries.length > 0) {
      return this.summaries[Math.max(0, this.summaries.length - 1 - lag)] ?? latest;
    }
    const sinceEnd = this.endedAtPoll === undefined ? undefined : this.polls - this.endedAtPoll;
    if (sinceEnd !== undefined && sinceEnd < this.script.summaryUndercountPolls) {
      const summary = { ...latest.summary };
      if (summary.SUCCEEDED > 0) summary.SUCCEEDED--;
      else if (summary.FAILED > 0) summary.FAILED--;
      return { summary, at: latest.at };
    }
    return latest;
  }

  child(index: number): ChildState {
    const stopped = this.stopped.get(index);
    if (stopped) return stopped;
    if (this.script.holdRunnable) return { status: "RUNNABLE", reason: STUCK_RUNNABLE_REASON, started: false };
    const failure = this.script.failures.get(index);
    if (failure?.early === true) return { status: "FAILED", reason: failure.reason, exitCode: failure.exitCode, started: true };
    if (this.script.runGate !== undefined && !this.script.runGate.open) return { status: "RUNNING", started: true };
    // `polls` already counts the DescribeJobs being answered: polls 1..runPolls show RUNNING.
    if (this.script.runPolls > 0 && this.polls <= (this.runEndsAtPoll ?? this.script.runPolls)) return { status: "RUNNING", started: true };
    if (Date.now() < this.endsAt()) return { status: "RUNNING", started: true };
    if (failure) return { status: "FAILED", reason: failure.reason, exitCode: failure.exitCode, started: true };
    return { status: "SUCCEEDED", reason: CONTAINER_EXITED_REASON, exitCode: 0, started: true };
  }

  /** When a job scripted to run for a time ends (the submission itself for any other). */
  endsAt(): number {
    return this.submittedAt + this.script.runMs;
  }

  /** Children still RUNNING end at the next poll of the parent. */
  finishRunning(): void {
    this.runEndsAtPoll = Math.min(this.polls, this.script.runPolls);
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
    this.noteEnd(this.tick());
    const ended = this.endedAt === undefined ? {} : { stoppedAt: this.endedAt };
    if (summary.FAILED > 0) {
      const state: ChildState = { status: "FAILED", started, ...ended };
      // Stopped asynchronously, the parent ends when its children have; AWS does not promise it
      // the reason given to the stop.
      if (this.stopReason !== undefined && this.script.stopDelayPolls === 0) state.reason = this.stopReason;
      return state;
    }
    return { status: "SUCCEEDED", started, ...ended };
  }

  /**
   * CancelJob / TerminateJob: what has not finished fails with the reason; what has, stays. On
   * an array parent scripted to stop slowly, the children (and so the parent) end only some
   * polls later, as on AWS, where the parent stays PENDING or RUNNING until its children end.
   */
  stop(reason: string, index?: number): void {
    if (index === undefined && this.arraySize !== undefined && this.script.stopDelayPolls > 0) {
      this.pendingStop ??= { reason, index, atPoll: this.polls + this.script.stopDelayPolls };
      return;
    }
    this.applyStop(reason, index);
  }

  private applyStop(reason: string, index: number | undefined): void {
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

  private noteEnd(at: number): void {
    if (this.endedAt !== undefined || this.arraySize === undefined) return;
    const summary = this.statusSummary();
    if (summary.SUCCEEDED + summary.FAILED < this.childCount) return;
    this.endedAt = at;
    this.endedAtPoll = this.polls;
  }

  /** Epoch milliseconds that never repeat for one job: moments in order compare in order. */
  private tick(): number {
    this.lastTick = Math.max(Date.now(), this.lastTick + 1);
    return this.lastTick;
  }
}
