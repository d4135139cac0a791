import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { INPUT_NAMES } from "../../src/action/inputs.js";
import { OUTPUT_NAMES } from "../../src/action/outputs.js";
import { ACTION_BUNDLE, buildAction } from "../../scripts/build-action.js";
import { ACTION_YML } from "./run-action.js";
import { RUNNER_NODE_MAJOR, runnerNodeBinary } from "./runner-node.js";

const execFileAsync = promisify(execFile);

interface ActionYml {
  inputs: Record<string, { description?: string; default?: unknown; required?: boolean }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string };
}

describe("action.yml", () => {
  it("documents every input and output the code knows, and nothing else", async () => {
    const yml = parse(await readFile(ACTION_YML, "utf8")) as ActionYml;
    expect(Object.keys(yml.inputs).sort()).toEqual([...INPUT_NAMES].sort());
    expect(Object.keys(yml.outputs).sort()).toEqual([...OUTPUT_NAMES].sort());
    for (const [name, entry] of [...Object.entries(yml.inputs), ...Object.entries(yml.outputs)]) {
      expect(entry.description?.length ?? 0, name).toBeGreaterThan(20);
    }
    // The runner passes defaults as strings; a YAML boolean here would become "true" by accident.
    for (const entry of Object.values(yml.inputs)) expect(typeof (entry.default ?? "")).toBe("string");
    expect(yml.runs).toEqual({ using: `node${RUNNER_NODE_MAJOR}`, main: "dist/action/index.js" });
  });

  it("is tested on the Node major it names, as the runner runs it", async () => {
    const { stdout } = await execFileAsync(runnerNodeBinary(), ["--version"]);
    expect(stdout.trim()).toMatch(new RegExp(`^v${RUNNER_NODE_MAJOR}\\.`));
  });

  it("runs a dist/ bundle that is up to date with the sources", async () => {
    const dir = await mkdtemp(join(tmpdir(), "batchship-dist-"));
    try {
      const fresh = join(dir, "index.js");
      await buildAction(fresh);
      const [built, committed] = await Promise.all([readFile(fresh), readFile(ACTION_BUNDLE).catch(() => Buffer.alloc(0))]);
      expect(built.equals(committed), "dist/action/index.js is stale against src/: run npm run build:action and commit dist/").toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
