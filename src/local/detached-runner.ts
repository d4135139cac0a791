import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, join } from "node:path";
import { BatchshipError } from "../errors.js";
import type { Sleep } from "../release/ports.js";
import type { ArrayRunner } from "./array-runner.js";
import type { JobStore, Owner } from "./job-store.js";

/** The hidden CLI subcommand a detached runner is: `batchship <RUNNER_COMMAND> …`. */
export const RUNNER_COMMAND = "run-local-job";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The submitter hands the job over right after the spawn; a runner that never gets it gives up. */
const HAND_OVER_WAIT_MS = 10_000;
const HAND_OVER_POLL_MS = 25;

export interface RunnerArgs {
  stateDir: string;
  jobId: string;
  ownerToken: string;
}

/**
 * Starts `batchship run-local-job` for a job, detached from this process (its own session, no
 * terminal, stdout and stderr to `runner.log` beside the job's child logs), and returns the
 * owner it will be. argv only, never a shell. `cli` is how this batchship was started (node,
 * its flags, the script). Undefined when the process could not be started.
 */
export function spawnJobRunner(cli: readonly string[], stateDir: string, env: NodeJS.ProcessEnv, jobId: string): Owner | undefined {
  const [program, ...prefix] = cli;
  if (program === undefined) return undefined;
  const token = randomUUID();
  let log: number | undefined;
  try {
    const logDir = join(stateDir, "jobs", jobId);
    mkdirSync(logDir, { recursive: true });
    log = openSync(join(logDir, "runner.log"), "a", 0o600);
    const child = spawn(program, [...prefix, RUNNER_COMMAND, "--state-dir", stateDir, "--job-id", jobId, "--owner-token", token], {
      detached: true,
      stdio: ["ignore", log, log],
      env,
    });
    // A failed start is reported here, after the pid check below has already said so.
    child.on("error", () => {});
    child.unref();
    return child.pid === undefined ? undefined : { token, pid: child.pid, host: hostname() };
  } catch {
    return undefined;
  } finally {
    if (log !== undefined) closeSync(log);
  }
}

/** The runner's arguments, checked: they reach a file path and the store. */
export function checkRunnerArgs(args: RunnerArgs): RunnerArgs {
  if (!isAbsolute(args.stateDir)) throw new BatchshipError("USAGE", `Invalid --state-dir "${args.stateDir}": expected an absolute path`);
  if (!UUID.test(args.jobId)) throw new BatchshipError("USAGE", `Invalid --job-id "${args.jobId}": expected a local job id (a UUID)`);
  if (!UUID.test(args.ownerToken)) throw new BatchshipError("USAGE", `Invalid --owner-token "${args.ownerToken}": expected a UUID`);
  return args;
}

/**
 * The runner's side: waits until the submitter has handed it the job, then runs the job's
 * children to their end. False when the job never became this process's (the submitter ran it
 * itself, or it was stopped or adopted meanwhile): then nothing is run.
 */
export async function runHandedOverJob(deps: { jobs: JobStore; runner: ArrayRunner; owner: Owner; sleep: Sleep }, jobId: string): Promise<boolean> {
  const { jobs, owner } = deps;
  for (let waited = 0; ; waited += HAND_OVER_POLL_MS) {
    const job = jobs.job(jobId);
    if (job !== undefined && job.owner_token === owner.token && job.owner_pid === owner.pid) {
      if (job.stopped_at !== null) return false;
      await deps.runner.start(job);
      return true;
    }
    if (waited >= HAND_OVER_WAIT_MS) return false;
    await deps.sleep(HAND_OVER_POLL_MS);
  }
}
