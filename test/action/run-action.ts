import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { runnerNodeBinary } from "./runner-node.js";
import { TEST_CACHE_DIR } from "../support/cache-dir.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const ACTION_YML = join(ROOT, "action.yml");

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  /** GITHUB_OUTPUT as the runner reads it: the last value of each name wins. */
  outputs: Record<string, string>;
  /** GITHUB_STEP_SUMMARY's content. */
  summary: string;
}

export interface ActionStep {
  /** `with:` of the step; names as in action.yml. */
  with: Record<string, string>;
  /** The workspace: the checked-out repository, and the working directory. */
  workspace: string;
  sha: string;
  ref: string;
  /** The webhook payload the run was triggered by. */
  event: object;
  /** The AWS environment (emulatorEnv), as configure-aws-credentials would export it. */
  env: Record<string, string>;
}

/**
 * Runs the committed bundle the way the runner does: `node <action>/dist/action/index.js`, on
 * the runner's Node major (`runnerNodeBinary`), with
 * INPUT_* for every input (action.yml's defaults filled in, as the runner fills them), the
 * GITHUB_* variables and files, and nothing else from the test's environment.
 */
export async function runAction(step: ActionStep): Promise<ActionRun> {
  const files = await mkdtemp(join(tmpdir(), "batchship-runner-"));
  try {
    const outputFile = join(files, "output");
    const summaryFile = join(files, "summary");
    const eventFile = join(files, "event.json");
    await Promise.all([writeFile(outputFile, ""), writeFile(summaryFile, ""), writeFile(eventFile, JSON.stringify(step.event))]);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      BATCHSHIP_CACHE_DIR: TEST_CACHE_DIR,
      ...step.env,
      ...(await inputVariables(step.with)),
      GITHUB_ACTIONS: "true",
      CI: "true",
      GITHUB_WORKSPACE: step.workspace,
      GITHUB_SHA: step.sha,
      GITHUB_REF: step.ref,
      GITHUB_EVENT_NAME: "push",
      GITHUB_EVENT_PATH: eventFile,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "acme/app",
      GITHUB_RUN_ID: "1",
    };
    const { code, stdout, stderr } = await execNode([join(ROOT, "dist/action/index.js")], env, step.workspace);
    return {
      code,
      stdout,
      stderr,
      outputs: parseOutputFile(await readFile(outputFile, "utf8")),
      summary: await readFile(summaryFile, "utf8"),
    };
  } finally {
    await rm(files, { recursive: true, force: true });
  }
}

/** The runner sets INPUT_<NAME> (upper case, spaces as `_`, hyphens kept) for every declared input. */
async function inputVariables(given: Record<string, string>): Promise<Record<string, string>> {
  const declared = parse(await readFile(ACTION_YML, "utf8")).inputs as Record<string, { default?: string }>;
  const env: Record<string, string> = {};
  for (const [name, input] of Object.entries(declared)) {
    const value = given[name] ?? input.default;
    if (value !== undefined) env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  }
  for (const [name, value] of Object.entries(given)) {
    if (!(name in declared)) env[`INPUT_${name.toUpperCase()}`] = value;
  }
  return env;
}

/** `name<<DELIMITER\nvalue\nDELIMITER\n`, repeated (what core.setOutput appends). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] ?? "");
    if (!match) continue;
    const [, name = "", delimiter] = match;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? "");
    outputs[name] = value.join("\n");
  }
  return outputs;
}

function execNode(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(runnerNodeBinary(), args, { env, cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error && typeof error.code === "number" ? error.code : error ? 1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
