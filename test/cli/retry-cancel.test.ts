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
  await createFixtures(emu, { jobQueues: ["cli-retry", "cli-cancel"], codebuildProject: "etl-image" });
  env = emulatorEnv(emu);
  repo = await createTestRepo();
});
afterAll(async () => {
  await emu?.close();
  await repo?.remove();
});

/** Calls forwarded to AWS from now on, by operation. */
function mark(): (operation: string) => number {
  const start = emu.calls.length;
  return (operation) => emu.calls.slice(start).filter((c) => c.operation === operation && c.forwarded).length;
}

describe("batchship release --retry and batchship cancel (the built binary)", () => {
  it("reports a failed canary again, and --retry runs one new canary without building again", async () => {
    emu.jobs.failChildren("cli-retry", [1], { exitCode: 137, reason: "Host EC2 (instance i-0abc) terminated." });
    const sha = await repo.commit({ "pipelines/cli-retry.yml": pipelineYaml("cli-retry") });
    const file = `${repo.dir}/pipelines/cli-retry.yml`;
    const first = await runCli(["release", "-p", file, "--poll-interval", "0.05", "--json"], env);
    expect(first.code, first.stderr).toBe(1);
    const failedJob = JSON.parse(first.stdout).canary.jobId;
    emu.jobs.clear();

    const calls = mark();
    const again = await runCli(["release", "-p", file, "--poll-interval", "0.05"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/failed in an earlier run/);
    expect(again.stderr).toMatch(/hint: .*--retry/);
    expect(calls("SubmitJob")).toBe(0);

    const retried = await runCli(["release", "-p", file, "--commit", sha, "--retry", "--poll-interval", "0.05", "--json"], env);
    expect(retried.code, retried.stderr).toBe(0);
    const out = JSON.parse(retried.stdout);
    expect(out).toMatchObject({ status: "promoted", canary: { result: "passed" } });
    expect(out.canary.jobId).not.toBe(failedJob);
    expect(calls("SubmitJob")).toBe(1);
    expect(calls("StartBuild")).toBe(0);
  });

  it("cancel stops the running canary; the release then reports cancelled and exits 1", async () => {
    emu.jobs.runFor("cli-cancel", 100_000);
    const sha = await repo.commit({ "pipelines/cli-cancel.yml": pipelineYaml("cli-cancel") });
    const file = `${repo.dir}/pipelines/cli-cancel.yml`;
    const submitted = await runCli(["release", "-p", file, "--no-wait", "--poll-interval", "0.05", "--json"], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const jobId = JSON.parse(submitted.stdout).canary.jobId;

    const cancelled = await runCli(["cancel", "-p", file, "--json"], env);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ status: "cancelled", commit: sha, canary: { stoppedJobs: [jobId] } });
    expect(emu.calls.filter((c) => c.operation === "TerminateJob" && c.forwarded).length).toBeGreaterThan(0);

    const followed = await runCli(["release", "-p", file, "--poll-interval", "0.05"], env);
    expect(followed.code).toBe(1);
    expect(followed.stderr).toMatch(/release cli-cancel-[0-9a-f]{12} cancelled/);

    const nothing = await runCli(["cancel", "-p", file, "--json"], env);
    expect(nothing.code).toBe(1);
    expect(JSON.parse(nothing.stdout)).toMatchObject({ error: { code: "NOTHING_TO_CANCEL" } });
  });
});
