import { relative } from "node:path";
import * as core from "@actions/core";
import { actorOf } from "../cli/actor.js";
import { BatchshipError, isBatchshipError } from "../errors.js";
import { runCommand, type CommandOutcome } from "./commands.js";
import { readRunFacts } from "./event.js";
import { readActionInputs } from "./inputs.js";
import { logGroups } from "./log-groups.js";
import { createOutputs } from "./outputs.js";
import { failureSummary } from "./summary.js";
import type { SpecProblem } from "../spec/index.js";

type Failure = NonNullable<CommandOutcome["failure"]>;

/**
 * The Action's entry: inputs → engine → outputs, summary and annotations. The step fails (exit
 * code 1) for a failed release, an invalid input or spec, and anything the engine could not do.
 */
export async function run(): Promise<void> {
  const log = logGroups(core);
  const setOutputs = createOutputs((name, value) => core.setOutput(name, value));
  let command = core.getInput("command") || "release";
  try {
    const inputs = readActionInputs();
    command = inputs.command;
    const facts = await readRunFacts("commit" in inputs ? inputs.commit : undefined);
    const env = process.env;
    const workspace = env["GITHUB_WORKSPACE"] || process.cwd();
    const annotate = (p: SpecProblem) =>
      core.error(`${p.path}: ${p.message}`, {
        title: "batchship validate",
        file: relative(workspace, p.file),
        startLine: p.line,
        startColumn: p.col,
      });
    const outcome = await runCommand(inputs, { env, actor: actorOf(env), observe: log, setOutputs, facts, annotate });
    log.close();
    await writeSummary(outcome.summary);
    if (outcome.failure) fail(command, outcome.failure);
  } catch (error) {
    log.close();
    const failure = failureOf(error);
    await writeSummary(failureSummary(command, failure));
    fail(command, failure);
  }
}

/**
 * One error annotation with the cause and the fix. Not core.setFailed: it takes no title and
 * would add a second annotation with the same message.
 */
function fail(command: string, failure: Failure): void {
  const aws = failure.awsErrorName ? ` (${failure.awsErrorName})` : "";
  const hint = failure.hint ? `\nFix: ${failure.hint}` : "";
  core.error(`${failure.message}${aws}${hint}`, { title: `batchship ${command}: ${failure.code}` });
  process.exitCode = core.ExitCode.Failure;
}

function failureOf(error: unknown): Failure {
  const known: BatchshipError = isBatchshipError(error)
    ? error
    : new BatchshipError("ENVIRONMENT", `Unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, {
        hint: "this is a bug in batchship; please report it with this log",
      });
  return known.toJSON();
}

/** The job summary, when the runner offers one (GITHUB_STEP_SUMMARY); a local run has none. */
async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(markdown).write();
  } catch (error) {
    core.warning(`Could not write the job summary: ${error instanceof Error ? error.message : String(error)}`);
  }
}
