import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../release/ports.js";
import { childLaunch, type ChildLaunch } from "./child-command.js";
import type { ContainerTool, RunHandle, RunOutcome } from "./container-tool.js";
import type { JobDefinitionStore } from "./job-definition-store.js";
import type { Adoption, ChildRow, JobRow, JobStore } from "./job-store.js";
import type { Semaphore } from "./semaphore.js";

export interface RunnerDeps {
  jobs: JobStore;
  definitions: JobDefinitionStore;
  /** Resolved on the first child: detecting the tool costs a process or two. */
  tool: () => Promise<ContainerTool>;
  slots: Semaphore;
  clock: Clock;
  logsDir: string;
  isInsecure: (image: string) => boolean;
}

/** Batch's words, so a reason reads the same on both backends. */
export const CHILD_REASON = {
  timeout: "Job attempt duration exceeded timeout",
  exited: "Essential container in task exited",
  cannotStart: "CannotStartContainerError",
  outOfMemory: "OutOfMemoryError: Container killed due to memory usage",
} as const;

const REASON_OUTPUT_LIMIT = 400;

/**
 * Runs the children of local jobs in this process: each child is a real container, at most
 * `slots` at once across all jobs, retried per `retryStrategy.attempts`, killed at
 * `timeout.attemptDurationSeconds` (and then not retried, as in Batch). Every change is written
 * to the store at once, so another process reading it sees what Batch's DescribeJobs would show.
 */
export function createArrayRunner(deps: RunnerDeps) {
  const { jobs } = deps;
  /** Stops for the jobs this process runs. */
  const controllers = new Map<string, AbortController>();
  /** Ends when every child of the job this process runs has finished. */
  const runs = new Map<string, Promise<void>>();

  async function drive(job: JobRow, controller: AbortController, orphans: Adoption["orphans"]): Promise<void> {
    if (orphans.length > 0) {
      // A run the previous owner left going would otherwise run twice, beside its re-run.
      const tool = await deps.tool();
      await Promise.all(orphans.map(({ handle }) => tool.reap(handle)));
    }
    const definition = deps.definitions.byArn(job.definition_arn);
    const waiting = jobs.children(job.job_id).filter((c) => c.status === "RUNNABLE");
    if (definition === undefined) {
      for (const child of waiting) finish(job, child.array_index, `job definition ${job.definition_arn} no longer exists`);
      return;
    }
    await Promise.all(waiting.map((child) => runChild(job, child, definition.body, controller.signal)));
  }

  async function runChild(
    job: JobRow,
    first: ChildRow,
    body: Parameters<typeof childLaunch>[0],
    signal: AbortSignal,
  ): Promise<void> {
    const index = first.array_index;
    for (let attempt = first.attempt; ; attempt++) {
      await deps.slots.acquire();
      let retry = false;
      try {
        const stopReason = jobs.job(job.job_id)?.stop_reason;
        if (signal.aborted || stopReason) {
          // Stopped while it waited for a slot or between attempts: nothing will start it again.
          if (jobs.child(job.job_id, index)?.status === "RUNNABLE") finish(job, index, stopReason ?? "stopped");
          return;
        }
        const launch = childLaunch(
          body,
          { parameters: parse(job.parameters), environment: parse(job.environment) },
          { jobId: job.job_id, arrayIndex: job.array_size === null ? undefined : index, attempt, jobQueue: job.job_queue },
        );
        const logPath = join(deps.logsDir, job.job_id, `${index}.attempt-${attempt}.log`);
        mkdirSync(join(deps.logsDir, job.job_id), { recursive: true });
        jobs.update(job.job_id, index, {
          status: "RUNNING",
          attempt,
          statusReason: null,
          exitCode: null,
          logPath,
          startedAt: deps.clock.now(),
        });
        const outcome = await runContainer(job, index, attempt, launch, logPath, signal);
        retry = record(job, index, attempt, launch, outcome, signal);
      } catch (error) {
        finish(job, index, `batchship local runner: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        deps.slots.release();
      }
      if (!retry) return;
    }
  }

  async function runContainer(
    job: JobRow,
    index: number,
    attempt: number,
    launch: ChildLaunch,
    logFile: string,
    signal: AbortSignal,
  ): Promise<RunOutcome> {
    const tool = await deps.tool();
    // Private (0700) and removed after: it may hold the environment's values.
    const scratchDir = await mkdtemp(join(tmpdir(), "batchship-run-"));
    try {
      return await tool.run({
        image: launch.image,
        insecure: deps.isInsecure(launch.image),
        command: launch.command,
        environment: launch.environment,
        resources: launch.resources,
        scratchDir,
        // Unique per run: a container left behind by a crashed process must not block a re-run.
        name: `batchship-${job.job_id.slice(0, 8)}-${index}-${attempt}-${Math.random().toString(36).slice(2, 8)}`,
        logFile,
        ...(launch.attemptTimeoutMs === undefined ? {} : { timeoutMs: launch.attemptTimeoutMs }),
        signal,
        onStart: (handle: RunHandle) => {
          try {
            jobs.setRunHandle(job.job_id, index, handle);
          } catch {
            // Only an adopter's clean-up needs it, should this process die; the run goes on.
          }
        },
      });
    } finally {
      await rm(scratchDir, { recursive: true, force: true });
    }
  }

  /** Writes how an attempt ended; true when the child gets another attempt. */
  function record(job: JobRow, index: number, attempt: number, launch: ChildLaunch, outcome: RunOutcome, signal: AbortSignal): boolean {
    const now = deps.clock.now();
    const stopReason = jobs.job(job.job_id)?.stop_reason;
    if (signal.aborted || stopReason) {
      jobs.update(job.job_id, index, { status: "FAILED", statusReason: stopReason ?? "stopped", stoppedAt: now });
      return false;
    }
    if (outcome.timedOut) {
      // Batch does not retry an attempt it terminated for its duration.
      jobs.update(job.job_id, index, { status: "FAILED", statusReason: CHILD_REASON.timeout, stoppedAt: now });
      return false;
    }
    if (outcome.started && outcome.code === 0) {
      jobs.update(job.job_id, index, { status: "SUCCEEDED", exitCode: 0, stoppedAt: now });
      return false;
    }
    const reason = failureReason(outcome);
    if (attempt < launch.attempts) {
      jobs.update(job.job_id, index, { status: "RUNNABLE", statusReason: `attempt ${attempt} failed: ${reason}` });
      return true;
    }
    jobs.update(job.job_id, index, {
      status: "FAILED",
      statusReason: reason,
      exitCode: outcome.started && outcome.code !== undefined ? outcome.code : null,
      stoppedAt: now,
    });
    return false;
  }

  function finish(job: JobRow, index: number, reason: string): void {
    jobs.update(job.job_id, index, { status: "FAILED", statusReason: reason, stoppedAt: deps.clock.now() });
  }

  return {
    /**
     * Runs the job's RUNNABLE children in the background; the store says when they are done. An
     * adopted job's orphans (what its previous owner left running) are ended first. The promise
     * ends when the run does: a detached runner process exits then.
     */
    start(job: JobRow, orphans: Adoption["orphans"] = []): Promise<void> {
      const running = runs.get(job.job_id);
      if (running !== undefined) return running;
      const controller = new AbortController();
      controllers.set(job.job_id, controller);
      const run = drive(job, controller, orphans)
        .catch((error: unknown) => {
          for (const child of jobs.children(job.job_id).filter((c) => c.status === "RUNNABLE" || c.status === "RUNNING")) {
            finish(job, child.array_index, `batchship local runner: ${error instanceof Error ? error.message : String(error)}`);
          }
        })
        .finally(() => {
          controllers.delete(job.job_id);
          runs.delete(job.job_id);
        });
      runs.set(job.job_id, run);
      return run;
    },
    /** Kills this process's running containers of the job. */
    stop(jobId: string): void {
      controllers.get(jobId)?.abort();
    },
    runs(jobId: string): boolean {
      return controllers.has(jobId);
    },
  };
}

export type ArrayRunner = ReturnType<typeof createArrayRunner>;

function failureReason(outcome: RunOutcome): string {
  const output = outcome.tail.slice(-3).join(" | ");
  const last = output.length > REASON_OUTPUT_LIMIT ? `…${output.slice(-REASON_OUTPUT_LIMIT)}` : output;
  if (!outcome.started) return `${CHILD_REASON.cannotStart}: ${last || "the container did not start"}`;
  const how = outcome.code !== undefined ? `exit code ${outcome.code}` : `killed by ${outcome.signal ?? "a signal"}`;
  if (outcome.outOfMemoryMiB !== undefined) {
    return `${CHILD_REASON.outOfMemory}: the memory limit of ${outcome.outOfMemoryMiB} MiB; ${how}${last ? `; last output: ${last}` : ""}`;
  }
  return `${CHILD_REASON.exited}: ${how}${last ? `; last output: ${last}` : ""}`;
}

function parse(text: string): Record<string, string> {
  return JSON.parse(text) as Record<string, string>;
}
