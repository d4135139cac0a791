import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtures, emulatorEnv, startEmulator, type Emulator } from "../emulator/index.js";
import { pipelineYaml } from "../cli/pipeline-yaml.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { pushEvent } from "./push-event.js";
import { runAction, type ActionRun } from "./run-action.js";

const QUEUES = ["act-rollback", "act-retry", "act-cancel"];

let emu: Emulator;
let repo: TestRepo;
let env: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator();
  await createFixtures(emu, { jobQueues: QUEUES, codebuildProject: "etl-image" });
  env = emulatorEnv(emu);
  repo = await createTestRepo();
});
afterAll(async () => {
  await emu?.close();
  await repo?.remove();
});

function step(sha: string, inputs: Record<string, string>, stepEnv: Record<string, string> = env): Promise<ActionRun> {
  const ref = "refs/heads/main";
  return runAction({ with: { "poll-interval": "0.05", ...inputs }, workspace: repo.dir, sha, ref, event: pushEvent({ sha, ref, message: "m" }), env: stepEnv });
}

describe("the Action's operating commands (the bundle run as the runner runs it)", () => {
  it("`validate` annotates each problem on its file's line and needs no AWS", async () => {
    const sha = await repo.commit({
      "pipelines/good.yml": pipelineYaml("good"),
      "pipelines/bad.yml": "apiVersion: batchship/v1\nname: bad\nsoruce: {}\n",
    });
    const before = emu.calls.length;

    const good = await step(sha, { command: "validate", pipeline: "pipelines/good.yml" }, {});
    const both = await step(sha, { command: "validate", pipeline: "pipelines/good.yml\npipelines/bad.yml" }, {});

    expect(good.code, good.stdout).toBe(0);
    expect(good.outputs).toMatchObject({ status: "ok" });
    expect(both.code).toBe(1);
    expect(both.outputs).toMatchObject({ status: "invalid" });
    expect(both.stdout).toMatch(/^::error title=batchship validate,file=pipelines\/bad\.yml,line=3,col=1::soruce/m);
    expect(both.summary).toContain("<code>pipelines/bad\\.yml\\:3\\:1</code> | <code>soruce</code>");
    expect(emu.calls.length).toBe(before);
  });

  it("`rollback` then `status`: outputs name the revision production runs again", async () => {
    const file = "pipelines/act-rollback.yml";
    const first = await repo.commit({ [file]: pipelineYaml("act-rollback") });
    expect((await step(first, { pipeline: file })).outputs).toMatchObject({ status: "promoted" });
    const second = await repo.commit({ "src/v2.txt": "2\n" });
    const released = await step(second, { pipeline: file });
    expect(released.outputs).toMatchObject({ status: "promoted" });

    const rolledBack = await step(second, { pipeline: file, command: "rollback" });
    expect(rolledBack.code, rolledBack.stdout).toBe(0);
    expect(rolledBack.outputs).toMatchObject({
      status: "rolled-back",
      "release-id": `act-rollback-${first.slice(0, 12)}`,
      "job-definition-arn": expect.stringMatching(/:job-definition\/act-rollback:3$/),
    });

    const status = await step(second, { pipeline: file, command: "status" });
    expect(status.code, status.stdout).toBe(0);
    expect(status.outputs).toMatchObject({
      status: "ok",
      "release-id": `act-rollback-${first.slice(0, 12)}`,
      "image-uri": rolledBack.outputs["image-uri"],
      "job-definition-arn": rolledBack.outputs["job-definition-arn"],
    });
  });

  it("`doctor` checks what the pipeline needs and fails the step for a missing queue", async () => {
    const sha = await repo.commit({
      "pipelines/act-doctor.yml": pipelineYaml("act-rollback"),
      "pipelines/act-no-queue.yml": pipelineYaml("act-rollback", { queue: "no-such-queue" }),
    });

    const healthy = await step(sha, { pipeline: "pipelines/act-doctor.yml", command: "doctor" });
    const broken = await step(sha, { pipeline: "pipelines/act-no-queue.yml", command: "doctor" });

    expect(healthy.code, healthy.stdout).toBe(0);
    expect(healthy.outputs).toMatchObject({ status: "ok" });
    expect(healthy.summary).toContain("✅ doctor");
    expect(broken.code).toBe(1);
    expect(broken.outputs).toMatchObject({ status: "failed" });
    expect(broken.stdout).toMatch(/^::error title=batchship doctor%3A ENVIRONMENT::doctor found \d problem\(s\): .*no-such-queue/m);
  });

  it("`retry: true` runs one new canary after a failed one, without building again", async () => {
    emu.jobs.failChildren("act-retry", [0], { exitCode: 137, reason: "Host EC2 (instance i-0abc) terminated." });
    const file = "pipelines/act-retry.yml";
    const sha = await repo.commit({ [file]: pipelineYaml("act-retry") });
    const failed = await step(sha, { pipeline: file });
    expect(failed.outputs).toMatchObject({ status: "failed", "canary-result": "failed" });
    emu.jobs.clear();
    const builds = emu.count("StartBuild");
    const submits = emu.count("SubmitJob");

    const again = await step(sha, { pipeline: file });
    expect(again.code).toBe(1);
    expect(emu.count("SubmitJob")).toBe(submits);

    const retried = await step(sha, { pipeline: file, retry: "true" });
    expect(retried.code, retried.stdout).toBe(0);
    expect(retried.outputs).toMatchObject({ status: "promoted", "canary-result": "passed" });
    expect(retried.outputs["canary-job-id"]).not.toBe(failed.outputs["canary-job-id"]);
    expect(emu.count("SubmitJob") - submits).toBe(1);
    expect(emu.count("StartBuild")).toBe(builds);
  });

  it("`cancel` stops a running canary; the release then ends cancelled", async () => {
    emu.jobs.runFor("act-cancel", 100_000);
    const file = "pipelines/act-cancel.yml";
    const sha = await repo.commit({ [file]: pipelineYaml("act-cancel") });
    const submitted = await step(sha, { pipeline: file, wait: "false" });
    expect(submitted.outputs).toMatchObject({ status: "canary-running" });

    const cancelled = await step(sha, { pipeline: file, command: "cancel" });
    expect(cancelled.code, cancelled.stdout).toBe(0);
    expect(cancelled.outputs).toMatchObject({ status: "cancelled", "release-id": `act-cancel-${sha.slice(0, 12)}` });
    expect(cancelled.summary).toContain(`canary job <code>${(submitted.outputs["canary-job-id"] ?? "?").replaceAll("-", "\\-")}</code>`);

    const followed = await step(sha, { pipeline: file });
    expect(followed.code).toBe(1);
    expect(followed.outputs).toMatchObject({ status: "cancelled", "canary-result": "cancelled", promoted: "false" });
    expect(followed.summary).toContain("release cancelled");
  });
});
