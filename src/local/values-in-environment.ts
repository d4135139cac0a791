import { findExecutable } from "./find-executable.js";
import { runCommand, type CommandOutcome, type RunOptions } from "./run-command.js";

/**
 * `--build-arg NAME` flags without their values. docker, podman and buildah read the value of a
 * build argument named without `=` from their own environment, which `runWithValues` gives them:
 * a process's command line is readable by every user of the machine (`ps`), its environment only
 * by the same user (/proc/<pid>/environ is mode 0400).
 */
export function buildArgFlags(buildArgs: Readonly<Record<string, string>>): string[] {
  return Object.keys(buildArgs).flatMap((name) => ["--build-arg", name]);
}

/**
 * Runs a container tool with `values` (build arguments, a child's environment) added to its own
 * environment, for flags that name a variable and let the tool read its value there. A value wins
 * over the tool's own variable of the same name, so a value named like one the tool itself reads
 * (HOME, HTTP_PROXY, …) steers the tool for this call too; the tool is started by its full path,
 * found on the tool's own PATH, so a PATH among the values cannot change which program runs.
 */
export function runWithValues(
  tool: string,
  args: readonly string[],
  values: Readonly<Record<string, string>>,
  options: RunOptions,
): Promise<CommandOutcome> {
  const file = findExecutable(tool, options.env);
  if (file === undefined) {
    return Promise.resolve({ code: undefined, signal: undefined, timedOut: false, missing: true, stdout: "", tail: [`${tool} is not on PATH`] });
  }
  return runCommand(file, args, { ...options, env: { ...options.env, ...values } });
}
