import { dirname, isAbsolute, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { BatchshipError, describeError, isBatchshipError } from "../errors.js";
import { createEngineContext, type EngineContext, type PollingOptions } from "../release/context.js";
import type { Backend, Clock, Sleep } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";
import { createBackendFor, oneCommandAwsOptions, type BackendSite } from "../backend.js";
import { ledgerForSpec } from "../git/ledger-for-spec.js";
import { LOCAL_POLLING } from "../local/options.js";
import { checkoutHistory } from "../git/source-history.js";
import { actorOf } from "./actor.js";
import { cancelCommand } from "./cancel-command.js";
import { logsCommand } from "./logs-command.js";
import { doctorCommand, promoteCommand, releaseCommand, rollbackCommand, statusCommand } from "./commands.js";
import { reconcileCommand, unholdCommand } from "./gitops-commands.js";
import { processIo, type CliIo } from "./io.js";
import { pruneCommand } from "./prune-command.js";
import { progressLine } from "./progress.js";
import { addRunLocalJobCommand } from "./run-local-job.js";
import { addServeCommand } from "./serve.js";
import { validateCommand } from "./validate.js";

/** What the CLI takes from outside; tests pass their own. */
export interface CliDeps {
  io: CliIo;
  createBackend: (spec: PipelineSpec, site: BackendSite) => Backend | Promise<Backend>;
  clock?: Clock;
  sleep?: Sleep;
  polling?: Partial<PollingOptions>;
  /**
   * How to start this batchship again (node, its flags, the script): a local job that the caller
   * will not wait for runs in such a process. Defaults to how this process was started.
   */
  selfCommand?: readonly string[];
  /** The environment, read once here: git credentials and cache dir for GitOps, the actor. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface CommandEnv {
  io: CliIo;
  /** Who runs the command, for release records: BATCHSHIP_ACTOR, GITHUB_ACTOR or the OS user. */
  actor: string;
  engine(spec: PipelineSpec, options: EngineOptions): Promise<EngineContext>;
}

export interface EngineOptions {
  json: boolean;
  pollSeconds?: number;
  pipelineFile?: string;
  /** The command returns before the jobs it submits end (`release --no-wait`). */
  detachJobs?: boolean;
}

const VERSION = "0.1.0";

export async function main(argv: readonly string[], deps: Partial<CliDeps> = {}): Promise<number> {
  const io = deps.io ?? processIo;
  const environment = deps.env ?? process.env;
  const createBackend = deps.createBackend ?? ((spec: PipelineSpec, site: BackendSite) => createBackendFor(spec, site, process.env, oneCommandAwsOptions(environment)));
  const script = argv[1];
  const selfCommand = deps.selfCommand ?? (script !== undefined && isAbsolute(script) ? [process.execPath, ...process.execArgv, script] : undefined);
  const env: CommandEnv = {
    io,
    actor: actorOf(environment),
    async engine(spec, { json, pollSeconds, pipelineFile, detachJobs }) {
      const polling = { ...(spec.build.backend === "local" ? LOCAL_POLLING : {}), ...deps.polling };
      if (pollSeconds !== undefined) {
        polling.buildIntervalMs = pollSeconds * 1000;
        polling.canaryIntervalMs = pollSeconds * 1000;
      }
      // A local build exports the commit from the repository that holds the pipeline file.
      const site: BackendSite = {
        ...(pipelineFile === undefined ? {} : { repositoryDir: dirname(resolve(pipelineFile)) }),
        ...(detachJobs === true && selfCommand !== undefined ? { detachJobsWith: selfCommand } : {}),
      };
      return createEngineContext(await createBackend(spec, site), {
        ...(deps.clock ? { clock: deps.clock } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
        polling,
        observe: json ? () => {} : progressTo(io),
        // GitOps: promotions, rollbacks and holds become commits (promotion.gitops).
        ...(await ledgerOption(spec, pipelineFile, environment)),
        // Which commit is newer, told by the repository holding the pipeline file.
        ...(pipelineFile === undefined ? {} : { history: checkoutHistory(dirname(resolve(pipelineFile))) }),
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
      if (error.exitCode === 0) return 0;
      // Scripts asked for JSON: a usage error is an object on stdout too (commander printed the text).
      if (argv.includes("--json")) {
        const message = error.message.replace(/^error: /, "");
        io.stdout(JSON.stringify({ error: new BatchshipError("USAGE", message, { hint: "run with --help for usage" }).toJSON() }));
      }
      return 2;
    }
    io.stderr(`error: ${describeError(error)}`);
    // Scripts asked for JSON: they get an object on stdout for a failure too.
    if (argv.includes("--json")) {
      io.stdout(JSON.stringify({ error: isBatchshipError(error) ? error.toJSON() : { message: describeError(error) } }));
    }
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
    .option("--no-wait", "return once the canary is submitted; a later release run follows it to a verdict")
    .option("--rebuild", "build the image even when one with the same content exists (a base image moved on)")
    .option("--retry", "build again after a failed build, or run a new canary after a failed or cancelled one")
    .addOption(json())
    .action(async (o) => setExit(await releaseCommand(env, o)));

  program
    .command("cancel")
    .description("stop a running release's build or canary; the release ends cancelled")
    .addOption(pipeline())
    .option("--commit <sha>", "commit whose release to cancel (default: HEAD)")
    .addOption(json())
    .action(async (o) => setExit(await cancelCommand(env, o)));

  program
    .command("logs")
    .description("print the canary children's output (CloudWatch Logs on AWS, the log files on the local backend)")
    .addOption(pipeline())
    .addOption(new Option("--commit <sha>", "commit whose release to show (default: HEAD)").conflicts("release"))
    .option("--release <id>", "release id (<pipeline>-<sha12>, as status shows) instead of --commit")
    .addOption(new Option("--index <n>", "only this child (0-based array index)").argParser(childIndex))
    .option("--failed", "only children that failed")
    .option("--follow", "keep printing new output until the canary ends (Ctrl-C stops reading, not the canary)")
    .addOption(new Option("--poll-interval <seconds>", "seconds between reads with --follow").argParser(positiveNumber))
    .addOption(new Option("--json", "one JSON object per line: index, stream, timestamp, message"))
    .action(async (o) => setExit(await logsCommand(env, o)));

  program
    .command("promote")
    .description("promote a release whose canary passed (the manual gate)")
    .addOption(pipeline())
    .option("--commit <sha>", "commit whose release to promote (default: HEAD)")
    .option("--allow-older", "promote even when production runs a newer commit that contains this one")
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
    .command("prune")
    .description("deregister job definition revisions beyond the pipeline's retention (also runs after each release)")
    .addOption(pipeline())
    .option("--dry-run", "list what would be deregistered; change nothing")
    .addOption(json())
    .action(async (o) => setExit(await pruneCommand(env, o)));

  program
    .command("reconcile")
    .description("GitOps: make the production revision match the release record in git")
    .addOption(pipeline())
    .addOption(json())
    .action(async (o) => setExit(await reconcileCommand(env, o)));

  program
    .command("unhold")
    .description("GitOps: let automatic promotion resume after a rollback held it")
    .addOption(pipeline())
    .addOption(json())
    .action(async (o) => setExit(await unholdCommand(env, o)));

  program
    .command("doctor")
    .description("check the build project, image repository and canary queues the pipeline needs")
    .addOption(pipeline())
    .action(async (o) => setExit(await doctorCommand(env, o)));

  addServeCommand(program, env.io, setExit);
  addRunLocalJobCommand(program, env.io, setExit);

  return program;
}

async function ledgerOption(spec: PipelineSpec, pipelineFile: string | undefined, environment: Readonly<Record<string, string | undefined>>) {
  const ledger = await ledgerForSpec(spec, pipelineFile === undefined ? {} : { pipelineFile }, environment);
  return ledger === undefined ? {} : { ledger };
}

function childIndex(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError("expected a child index: 0, 1, 2, …");
  return Number(value);
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

