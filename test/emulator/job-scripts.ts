import { CONTAINER_EXITED_REASON, ScriptedJob, type JobScript } from "./scripted-job.js";

export interface JobScripts {
  /** Jobs submitted to the queue from now on: these children end FAILED (default exit code 1). */
  failChildren(queue: string, indexes: number[], options?: { exitCode?: number; reason?: string; early?: boolean }): void;
  /** Jobs submitted to the queue from now on: every child stays RUNNABLE until cancelled or terminated. */
  holdRunnable(queue: string): void;
  /** Jobs submitted to the queue from now on: children show RUNNING for the parent's first `polls` DescribeJobs, then end. */
  runFor(queue: string, polls: number): void;
  /** Jobs submitted to the queue from now on: children show RUNNING for `ms` after submission, polled or not, then end. */
  runForMs(queue: string, ms: number): void;
  /**
   * Jobs submitted to the queue from now on: children show RUNNING until the returned function
   * is called, then end as scripted (SUCCEEDED unless `failChildren` says otherwise).
   */
  holdRunning(queue: string): () => void;
  /**
   * Jobs submitted to the queue from now on: the parent's statusSummary lags `polls` DescribeJobs
   * behind its children, with the statusSummaryLastUpdatedAt of then — so a parent that has ended
   * shows counts older than its stoppedAt, as AWS's can.
   */
  lagSummary(queue: string, polls: number): void;
  /**
   * Jobs submitted to the queue from now on: for `polls` DescribeJobs after the parent ended, its
   * statusSummary misses one child that has ended (the counts do not add up to the size).
   */
  undercountSummary(queue: string, polls: number): void;
  /**
   * Jobs submitted to the queue from now on: Cancel/TerminateJob of an array parent reach its
   * children only `polls` DescribeJobs of the parent later; until then the parent stays PENDING
   * and, once ended, does not carry the reason given to the stop.
   */
  stopSlowly(queue: string, polls: number): void;
  /** When a job scripted with runForMs ends (epoch ms); undefined for a job that is not. */
  endOf(jobId: string): number | undefined;
  /** Forgets the queue scripts (jobs already submitted keep theirs, as jobs in flight would). */
  clear(): void;
  /**
   * Whether a job of this name was submitted while a script applied to its queue. A release
   * reports its canary stage before its SubmitJob reaches Batch: a test that clears the scripts
   * once the job runs waits for this first, or the job may be submitted unscripted.
   */
  scripted(jobName: string): boolean;
  /**
   * The job of this name, shown RUNNING by `runFor`, ends at its parent's next DescribeJobs: a
   * test holds a canary with a large `runFor` and lets it end once what it waits for happened.
   */
  finishRunning(jobName: string): void;
  /**
   * Ages a job past what Batch keeps: a finished job is kept for about 7 days, after which neither
   * DescribeJobs nor ListJobs returns it or its children (moto keeps every job).
   */
  expire(jobId: string): void;
  /** Whether the job, or the array job a child belongs to, was aged out by `expire`. */
  expired(jobId: string): boolean;
}

/** Queue scripts, and the jobs that were submitted while one applied. */
export class JobLifecycle implements JobScripts {
  private readonly scripts = new Map<string, JobScript>();
  private readonly jobs = new Map<string, ScriptedJob>();
  private readonly byName = new Map<string, ScriptedJob>();
  private readonly aged = new Set<string>();

  failChildren(queue: string, indexes: number[], options: { exitCode?: number; reason?: string; early?: boolean } = {}): void {
    const script = this.scriptFor(queue);
    for (const index of indexes) {
      const failure = { exitCode: options.exitCode ?? 1, reason: options.reason ?? CONTAINER_EXITED_REASON };
      script.failures.set(index, options.early === true ? { ...failure, early: true } : failure);
    }
  }

  holdRunnable(queue: string): void {
    this.scriptFor(queue).holdRunnable = true;
  }

  runFor(queue: string, polls: number): void {
    this.scriptFor(queue).runPolls = polls;
  }

  runForMs(queue: string, ms: number): void {
    this.scriptFor(queue).runMs = ms;
  }

  holdRunning(queue: string): () => void {
    const gate = { open: false };
    this.scriptFor(queue).runGate = gate;
    return () => {
      gate.open = true;
    };
  }

  lagSummary(queue: string, polls: number): void {
    this.scriptFor(queue).summaryLagPolls = polls;
  }

  undercountSummary(queue: string, polls: number): void {
    this.scriptFor(queue).summaryUndercountPolls = polls;
  }

  stopSlowly(queue: string, polls: number): void {
    this.scriptFor(queue).stopDelayPolls = polls;
  }

  endOf(jobId: string): number | undefined {
    const found = this.locate(jobId);
    return found === undefined || found.job.endsAt() <= found.job.submittedAt ? undefined : found.job.endsAt();
  }

  clear(): void {
    this.scripts.clear();
  }

  scripted(jobName: string): boolean {
    return this.byName.has(jobName);
  }

  finishRunning(jobName: string): void {
    const job = this.byName.get(jobName);
    if (!job) throw new Error(`no scripted job named ${jobName}: wait for scripted() first`);
    job.finishRunning();
  }

  expire(jobId: string): void {
    this.aged.add(jobId);
  }

  expired(jobId: string): boolean {
    // A child's id is its parent's, then `:index`.
    return this.aged.has(jobId) || this.aged.has(jobId.split(":")[0] ?? jobId);
  }

  /** Called for each accepted SubmitJob; the job is scripted (and returned) if its queue has a script. */
  submitted(queue: string, jobId: string, jobName: string, arraySize: number | undefined): ScriptedJob | undefined {
    const script = this.scripts.get(queueName(queue));
    if (!script) return undefined;
    // A copy: later script changes are for later jobs.
    const snapshot: JobScript = { ...script, failures: new Map(script.failures) };
    const job = new ScriptedJob(jobId, arraySize, snapshot);
    this.jobs.set(jobId, job);
    this.byName.set(jobName, job);
    return job;
  }

  /** The scripted job a job id (parent `<id>` or child `<id>:<n>`) belongs to, with the child index. */
  locate(jobId: string): { job: ScriptedJob; index: number | undefined } | undefined {
    const id = jobId.replace(/^arn:[^/]*:job\//, "");
    const [parentId = id, indexText] = id.split(":");
    const job = this.jobs.get(parentId);
    if (!job) return undefined;
    return { job, index: indexText === undefined ? undefined : Number(indexText) };
  }

  private scriptFor(queue: string): JobScript {
    const name = queueName(queue);
    let script = this.scripts.get(name);
    if (!script) {
      script = {
        failures: new Map(),
        holdRunnable: false,
        runPolls: 0,
        runMs: 0,
        summaryLagPolls: 0,
        summaryUndercountPolls: 0,
        stopDelayPolls: 0,
      };
      this.scripts.set(name, script);
    }
    return script;
  }
}

/** Queues are named or given by ARN (`arn:aws:batch:…:job-queue/<name>`); scripts key on the name. */
function queueName(queue: string): string {
  return queue.replace(/^arn:[^/]*:job-queue\//, "");
}
