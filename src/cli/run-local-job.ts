import { hostname } from "node:os";
import type { Command } from "commander";
import { createLocalBackend, readLocalOptions } from "../local/index.js";
import { checkRunnerArgs, RUNNER_COMMAND } from "../local/detached-runner.js";
import type { CliIo } from "./io.js";

/**
 * `batchship run-local-job`, hidden: the detached process a `release --no-wait` on the local
 * backend hands its canary to (src/local/detached-runner.ts starts it). It runs the job's
 * children to their end and exits; users never call it.
 */
export function addRunLocalJobCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command(RUNNER_COMMAND, { hidden: true })
    .requiredOption("--state-dir <dir>")
    .requiredOption("--job-id <id>")
    .requiredOption("--owner-token <token>")
    .action(async (o: { stateDir: string; jobId: string; ownerToken: string }) => {
      const args = checkRunnerArgs(o);
      const backend = createLocalBackend(readLocalOptions({ ...process.env, BATCHSHIP_STATE_DIR: args.stateDir }), {
        owner: { token: args.ownerToken, pid: process.pid, host: hostname() },
      });
      try {
        const ran = await backend.runHandedOverJob(args.jobId);
        if (!ran) io.stderr(`job ${args.jobId} was not handed to this runner (pid ${process.pid}); nothing run`);
        setExit(0);
      } finally {
        backend.close();
      }
    });
}
