import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtures, emulatorEnv, startEmulator, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { pipelineYaml } from "./pipeline-yaml.js";
import { runCli } from "./run-cli.js";
import { TEST_CACHE_DIR } from "../support/cache-dir.js";

const BIN = fileURLToPath(new URL("../../bin/batchship.js", import.meta.url));

let emu: Emulator;
let repo: TestRepo;
let env: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator();
  await createFixtures(emu, { jobQueues: ["cli-edited", "cli-ctrl-c"], codebuildProject: "etl-image" });
  env = emulatorEnv(emu);
  repo = await createTestRepo();
});
afterAll(async () => {
  await emu?.close();
  await repo?.remove();
});

describe("the command line, as documented", () => {
  it("--json on a usage error prints {error} on stdout and exits 2", async () => {
    const run = await runCli(["release", "--json"], env);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: "USAGE", message: expect.stringMatching(/--pipeline/), retryable: false } });
    const unknown = await runCli(["release", "-p", "x.yml", "--frobnicate", "--json"], env);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: "USAGE", message: expect.stringMatching(/--frobnicate/) } });
  });

  it("a missing pipeline file says that it does not exist", async () => {
    const run = await runCli(["release", "-p", "/nonexistent/pipelines/etl.yml", "--json"], env);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error.message).toBe("Cannot read pipeline file /nonexistent/pipelines/etl.yml: it does not exist");
    expect(run.stderr).not.toMatch(/not a git repository/);
  });

  it("warns when the pipeline file has uncommitted changes", async () => {
    const file = `${repo.dir}/pipelines/cli-edited.yml`;
    const sha = await repo.commit({ "pipelines/cli-edited.yml": pipelineYaml("cli-edited") });
    await writeFile(file, pipelineYaml("cli-edited").replace("arraySize: 2", "arraySize: 3"));

    const run = await runCli(["release", "-p", file, "--poll-interval", "0.05"], env);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`warning: ${file} has uncommitted changes; the release uses the file as committed at ${sha.slice(0, 12)}`);
  });

  it("Ctrl-C during a release says what keeps running and how to pick it up", async () => {
    const release = emu.builds.hold();
    try {
      const file = `${repo.dir}/pipelines/cli-ctrl-c.yml`;
      const sha = await repo.commit({ "pipelines/cli-ctrl-c.yml": pipelineYaml("cli-ctrl-c") });
      const child = spawn(process.execPath, [BIN, "release", "-p", file, "--poll-interval", "0.05"], {
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", BATCHSHIP_CACHE_DIR: TEST_CACHE_DIR, ...env },
      });
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += String(chunk);
        if (/\[build\]/.test(stderr) && !child.killed) child.kill("SIGINT");
      });
      const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));

      expect(code).toBe(130);
      expect(stderr).toContain("interrupted: the build and the canary keep running in AWS.");
      expect(stderr).toContain(`batchship release --pipeline ${file} --commit ${sha}`);
      expect(stderr).toContain(`batchship cancel --pipeline ${file} --commit ${sha}`);
    } finally {
      release();
    }
  });
});
