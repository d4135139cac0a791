import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { describeError, isBatchshipError } from "../errors.js";
import { createEngineContext, type EngineContext, type PollingOptions } from "../release/context.js";
import type { Backend, Clock, Sleep } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";
import { createBackendFor } from "../backend.js";
import { doctorCommand, promoteCommand, releaseCommand, rollbackCommand, statusCommand } from "./commands.js";
import { processIo, type CliIo } from "./io.js";
import { progressLine } from "./progress.js";
import { validateCommand } from "./validate.js";

/** What the CLI takes from outside; tests pass their own. */
export interface CliDeps {
  io: CliIo;
  createBackend: (spec: PipelineSpec) => Backend | Promise<Backend>;
  clock?: Clock;
  sleep?: Sleep;
  polling?: Partial<PollingOptions>;
}

export interface CommandEnv {
  io: CliIo;
  engine(spec: PipelineSpec, options: { json: boolean; pollSeconds?: number }): Promise<EngineContext>;
}

const VERSION = "0.1.0";

export async function main(argv: readonly string[], deps: Partial<CliDeps> = {}): Promise<number> {
  const io = deps.io ?? processIo;
  const createBackend = deps.createBackend ?? createBackendFor;
  const env: CommandEnv = {
    io,
    async engine(spec, { json, pollSeconds }) {
      const polling = { ...deps.polling };
      if (pollSeconds !== undefined) {
        polling.buildIntervalMs = pollSeconds * 1000;
        polling.canaryIntervalMs = pollSeconds * 1000;
      }
      return createEngineContext(await createBackend(spec), {
        ...(deps.clock ? { clock: deps.clock } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
        polling,
        observe: json ? () => {} : progressTo(io),
      });
    },
  };

  let exitCode = 0;
  const program = buildProgram(env, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: "node" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exitCode 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    io.stderr(`error: ${describeError(error)}`);
    return isBatchshipError(error) ? error.exitCode : 3;
  }
}

function buildProgram(env: CommandEnv, setExit: (code: number) => void): Command {
  const program = new Command("batchship")
    .description("GitOps build-and-release pipeline for container jobs on AWS Batch")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    // Set before the subcommands are added, which copy these settings: commander must never
    // call process.exit itself, or usage errors would not get exit code 2.
    .exitOverride()
    .configureOutput({ writeOut: (s) => env.io.stdout(s), writeErr: (s) => env.io.stderr(s) });
  const pipeline = () => new Option("-p, --pipeline <file>", "pipeline spec file").makeOptionMandatory();
  const json = () => new Option("--json", "print one JSON object on stdout");

  program
    .command("validate")
    .description("validate pipeline specs; prints every problem as file:line:col: path: message")
    .argument("<files...>", "pipeline spec files")
    .action(async (files: string[]) => setExit(await validateCommand(files, env.io)));

  program
    .command("release")
    .description("build, register a candidate, run the canary, and promote (auto mode)")
    .addOption(pipeline())
    .option("--commit <sha>", "commit to release (default: HEAD of the repository holding the pipeline file)")
    .option("--branch <name>", "branch the commit is on (default: the checked-out branch)")
    .addOption(new Option("--poll-interval <seconds>", "seconds between status polls").argParser(positiveNumber))
    .addOption(json())
    .action(async (o) => setExit(await releaseCommand(env, o)));

  program
    .command("promote")
    .description("promote a release whose canary passed (the manual gate)")
    .addOption(pipeline())
    .option("--commit <sha>", "commit whose release to promote (default: HEAD)")
    .addOption(json())
    .action(async (o) => setExit(await promoteCommand(env, o)));

  program
    .command("rollback")
    .description("register a new production revision with the previously promoted image")
    .addOption(pipeline())
    .addOption(json())
    .action(async (o) => setExit(await rollbackCommand(env, o)));

  program
    .command("status")
    .description("show the production revision, recent candidates and what awaits promotion")
    .addOption(pipeline())
    .addOption(json())
    .action(async (o) => setExit(await statusCommand(env, o)));

  program
    .command("doctor")
    .description("check the build project, image repository and canary queues the pipeline needs")
    .addOption(pipeline())
    .action(async (o) => setExit(await doctorCommand(env, o)));

  return program;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number of seconds");
  return n;
}

function progressTo(io: CliIo) {
  return (event: Parameters<EngineContext["observe"]>[0]) => {
    const line = progressLine(event);
    if (line !== undefined) io.stderr(line);
  };
}

