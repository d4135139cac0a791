import { isAbsolute, resolve } from "node:path";
import { getInput } from "@actions/core";
import { BatchshipError } from "../errors.js";

/** Every input action.yml declares; a test keeps the two in step. */
export const INPUT_NAMES = ["pipeline", "command", "commit", "branch", "wait", "poll-interval", "rebuild", "retry", "allow-older"] as const;
export type InputName = (typeof INPUT_NAMES)[number];

export const COMMANDS = ["release", "promote", "rollback", "status", "cancel", "validate", "doctor"] as const;
export type ActionCommand = (typeof COMMANDS)[number];

interface Common {
  /** Absolute path of the pipeline file. */
  pipeline: string;
  /** Seconds between build and canary polls; the engine's defaults when absent. */
  pollSeconds?: number;
}

/** What the step was asked to do, parsed and validated once at the edge. */
export type ActionInputs =
  | (Common & { command: "release"; commit: string; branch: string; wait: boolean; rebuild: boolean; retry?: true })
  | (Common & { command: "promote"; commit: string; branch: string; allowOlder: boolean })
  | (Common & { command: "cancel"; commit: string; branch: string })
  | (Common & { command: "rollback" | "status" | "doctor" })
  /** `validate`: every file the pipeline input lists, one per line. */
  | (Common & { command: "validate"; files: string[] });

/** The runner's variables the inputs default from: GITHUB_SHA, GITHUB_REF, GITHUB_WORKSPACE. */
export type RunnerEnv = Readonly<Record<string, string | undefined>>;

/** The inputs as the runner passes them (`INPUT_<NAME>`), through @actions/core. */
export function readActionInputs(env: RunnerEnv = process.env): ActionInputs {
  return parseActionInputs((name) => getInput(name), env);
}

/**
 * Strict on purpose: a typo such as `wait: ture` must fail the step, naming the input, rather
 * than quietly release with a default. Inputs and event fields are untrusted text; nothing here
 * reaches a shell, and commit and branch are checked before git sees them.
 */
export function parseActionInputs(input: (name: InputName) => string, env: RunnerEnv): ActionInputs {
  const command = parseCommand(input("command"));
  const pipelineInput = input("pipeline");
  if (pipelineInput === "") throw invalid("pipeline", pipelineInput, "the path of the pipeline file is required");
  const workspace = env["GITHUB_WORKSPACE"] || process.cwd();
  const pipeline = isAbsolute(pipelineInput) ? pipelineInput : resolve(workspace, pipelineInput);
  const pollSeconds = parsePollInterval(input("poll-interval"));
  const common: Common = { pipeline, ...(pollSeconds === undefined ? {} : { pollSeconds }) };
  const wait = parseBoolean("wait", input("wait"), true);
  const rebuild = parseBoolean("rebuild", input("rebuild"), false);
  const retry = parseBoolean("retry", input("retry"), false);

  switch (command) {
    case "rollback":
    case "status":
    case "doctor":
      return { ...common, command };
    case "validate": {
      const files = pipelineInput.split("\n").map((line) => line.trim()).filter((line) => line !== "");
      return { ...common, command, files: files.map((file) => (isAbsolute(file) ? file : resolve(workspace, file))) };
    }
    case "promote":
      return { ...common, command, commit: parseCommit(input("commit"), env), branch: parseBranch(input("branch"), env), allowOlder: parseBoolean("allow-older", input("allow-older"), false) };
    case "cancel":
      return { ...common, command, commit: parseCommit(input("commit"), env), branch: parseBranch(input("branch"), env) };
    case "release": {
      const commit = parseCommit(input("commit"), env);
      return { ...common, command, commit, branch: parseBranch(input("branch"), env), wait, rebuild, ...(retry ? { retry: true as const } : {}) };
    }
  }
}

function parseCommand(value: string): ActionCommand {
  if (value === "") return "release";
  const command = COMMANDS.find((c) => c === value);
  if (command === undefined) throw invalid("command", value, `expected one of ${COMMANDS.join(", ")}`);
  return command;
}

/** Only `true` and `false`: unlike core.getBooleanInput, `True` or `yes` are mistakes here. */
export function parseBoolean(name: InputName, value: string, fallback: boolean): boolean {
  if (value === "") return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw invalid(name, value, "expected true or false");
}

const SHA = /^[0-9a-f]{40}$/;

function parseCommit(value: string, env: RunnerEnv): string {
  const commit = value === "" ? (env["GITHUB_SHA"] ?? "") : value;
  if (commit === "") throw invalid("commit", value, "no commit given and GITHUB_SHA is not set");
  // The full sha, never a ref name: a ref moves, and a release is a function of its commit.
  if (!SHA.test(commit)) {
    throw invalid("commit", commit, "expected a full 40-character lowercase hex commit sha", value === "" ? "GITHUB_SHA" : undefined);
  }
  return commit;
}

const BRANCH_REF = "refs/heads/";

function parseBranch(value: string, env: RunnerEnv): string {
  if (value !== "") return checkBranch(value, "branch");
  const ref = env["GITHUB_REF"] ?? "";
  if (ref.startsWith(BRANCH_REF)) return checkBranch(ref.slice(BRANCH_REF.length), "GITHUB_REF");
  throw invalid(
    "branch",
    value,
    ref === ""
      ? "no branch given and GITHUB_REF is not set"
      : `GITHUB_REF ${JSON.stringify(ref)} is not a branch (a tag or pull request); set the branch input`,
  );
}

/**
 * A first, cheap check of git's ref-name rules (git check-ref-format runs again before the
 * branch is used): no control characters, spaces or `~^:?*[\`, no `..` or `@{`, no leading `-`.
 */
function checkBranch(branch: string, from: string): string {
  const ok =
    branch.length <= 255 &&
    !branch.startsWith("-") &&
    !branch.startsWith("/") &&
    !branch.endsWith("/") &&
    !branch.endsWith(".") &&
    !branch.endsWith(".lock") &&
    !branch.includes("..") &&
    !branch.includes("@{") &&
    !branch.includes("//") &&
    !/[\x00-\x20\x7f~^:?*[\\]/.test(branch);
  if (!ok) throw invalid("branch", branch, "not a valid git branch name", from === "branch" ? undefined : from);
  return branch;
}

function parsePollInterval(value: string): number | undefined {
  if (value === "") return undefined;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw invalid("poll-interval", value, "expected a number of seconds between 0 and 3600, such as 10 or 0.5");
  }
  return seconds;
}

function invalid(name: InputName, value: string, expected: string, from?: string): BatchshipError {
  const source = from === undefined ? "" : ` (from ${from})`;
  return new BatchshipError("USAGE", `Invalid input ${name}${source}: ${JSON.stringify(value)}: ${expected}`, {
    hint: `fix \`${name}\` in the step's \`with:\` (see action.yml)`,
  });
}
