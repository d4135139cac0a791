import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtures, emulatorEnv, startEmulator, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { pipelineYaml } from "./pipeline-yaml.js";
import { runCli } from "./run-cli.js";

let emu: Emulator;
let repo: TestRepo;
let env: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator();
  await createFixtures(emu, { jobQueues: ["cli-logs", "cli-logs-follow"], codebuildProject: "etl-image" });
  env = emulatorEnv(emu);
  repo = await createTestRepo();
});
afterAll(async () => {
  await emu?.close();
  await repo?.remove();
});

const OOM = "OutOfMemoryError: Container killed due to memory usage";
const lines = (stdout: string) => stdout.split("\n").filter((line) => line !== "");

describe("batchship logs (the built binary, CloudWatch Logs)", () => {
  it("prints a failed canary's children from CloudWatch Logs: all, --failed, --index, --json", async () => {
    emu.jobs.failChildren("cli-logs", [1], { exitCode: 3, reason: OOM });
    const sha = await repo.commit({ "pipelines/cli-logs.yml": pipelineYaml("cli-logs") });
    const file = `${repo.dir}/pipelines/cli-logs.yml`;
    const release = await runCli(["release", "-p", file, "--poll-interval", "0.05", "--json"], env);
    expect(release.code, release.stderr).toBe(1);
    const jobId: string = JSON.parse(release.stdout).canary.jobId;

    const all = await runCli(["logs", "-p", file], env);
    expect(all.code, all.stderr).toBe(0);
    expect(lines(all.stdout)).toEqual([
      "[0] child 0 started",
      "[0] child 0 done (exit code 0)",
      "[1] child 1 started",
      `[1] child 1 failed: ${OOM} (exit code 3)`,
    ]);
    expect(all.stderr).toContain(`canary ${jobId} of cli-logs-${sha.slice(0, 12)}`);
    expect(emu.calls.filter((c) => c.operation === "GetLogEvents").every((c) => c.input.logGroupName === "/aws/batch/job")).toBe(true);

    const failed = await runCli(["logs", "-p", file, "--failed", "--release", `cli-logs-${sha.slice(0, 12)}`], env);
    expect(failed.code, failed.stderr).toBe(0);
    expect(lines(failed.stdout)).toEqual(["[1] child 1 started", `[1] child 1 failed: ${OOM} (exit code 3)`]);

    const one = await runCli(["logs", "-p", file, "--index", "0", "--commit", sha, "--json"], env);
    expect(one.code, one.stderr).toBe(0);
    const events = lines(one.stdout).map((line) => JSON.parse(line));
    expect(events.map((e) => [e.index, e.message])).toEqual([
      [0, "child 0 started"],
      [0, "child 0 done (exit code 0)"],
    ]);
    for (const event of events) {
      expect(event.stream).toMatch(new RegExp(`^cli-logs-canary/default/${jobId}:0$`));
      expect(event.timestamp).toBeGreaterThan(Date.parse("2024-01-01"));
    }
  });

  it("--follow prints each child's output as it comes and returns when the canary ends", async () => {
    emu.jobs.runFor("cli-logs-follow", 4);
    const sha = await repo.commit({ "pipelines/cli-logs-follow.yml": pipelineYaml("cli-logs-follow") });
    const file = `${repo.dir}/pipelines/cli-logs-follow.yml`;
    const submitted = await runCli(["release", "-p", file, "--no-wait", "--json"], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(JSON.parse(submitted.stdout).status).toBe("canary-running");

    const followed = await runCli(["logs", "-p", file, "--commit", sha, "--follow", "--poll-interval", "0.05", "--json"], env);
    expect(followed.code, followed.stderr).toBe(0);
    const messages = lines(followed.stdout).map((line) => JSON.parse(line).message);
    expect(messages).toEqual(["child 0 started", "child 1 started", "child 0 done (exit code 0)", "child 1 done (exit code 0)"]);
  });

  it("refuses a bad flag or a child that does not exist with exit code 2, before reading anything", async () => {
    const sha = await repo.commit({ "pipelines/cli-logs.yml": pipelineYaml("cli-logs") + "# again\n" });
    const file = `${repo.dir}/pipelines/cli-logs.yml`;
    const bad = await runCli(["logs", "-p", file, "--index", "first"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--index.*expected a child index/);
    const both = await runCli(["logs", "-p", file, "--commit", sha, "--release", "cli-logs-000000000000", "--json"], env);
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout).error.code).toBe("USAGE");
    const foreign = await runCli(["logs", "-p", file, "--release", "etl-000000000000"], env);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/not a release of pipeline cli-logs/);
    const none = await runCli(["logs", "-p", file, "--json"], env);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout).error).toMatchObject({ code: "NO_CANARY" });
  });
});
