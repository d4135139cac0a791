import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CACHE_DIR } from "../support/cache-dir.js";
import { createFixtures, emulatorEnv, startEmulator, type Emulator } from "../emulator/index.js";
import { pipelineYaml } from "../cli/pipeline-yaml.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { pushEvent } from "./push-event.js";
import { runAction, type ActionRun } from "./run-action.js";

const QUEUES = ["act-pass", "act-fail", "act-manual", "act-nowait", "act-reuse"];
const HOSTILE_MESSAGE = "Fix <script>alert(1)</script> | [x](javascript:alert(1)) **bold**\n\nbody";

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

/** One step of a workflow run on a push of `sha` to main. */
function step(sha: string, inputs: Record<string, string>, ref = "refs/heads/main"): Promise<ActionRun> {
  return runAction({
    with: { "poll-interval": "0.05", ...inputs },
    workspace: repo.dir,
    sha,
    ref,
    event: pushEvent({ sha, ref, message: HOSTILE_MESSAGE }),
    env,
  });
}

describe("the Action (dist/action/index.js run as the runner runs it)", () => {
  it("releases and promotes: outputs, a job summary with console links, log groups", async () => {
    const sha = await repo.commit({ "pipelines/act-pass.yml": pipelineYaml("act-pass") });

    const run = await step(sha, { pipeline: "pipelines/act-pass.yml" });

    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({
      "release-id": `act-pass-${sha.slice(0, 12)}`,
      status: "promoted",
      "build-id": expect.stringMatching(/^etl-image:/),
      "image-uri": expect.stringMatching(/\/act-pass@sha256:[0-9a-f]{64}$/),
      "image-digest": expect.stringMatching(/^sha256:/),
      "candidate-job-definition-arn": expect.stringMatching(/:job-definition\/act-pass-canary:1$/),
      "canary-job-id": expect.any(String),
      "canary-result": "passed",
      "job-definition-arn": expect.stringMatching(/:job-definition\/act-pass:1$/),
      promoted: "true",
    });
    // One log group per stage, the build phases and the canary counts inside them.
    for (const stage of ["build", "candidate", "canary", "promote"]) expect(run.stdout).toContain(`::group::${stage}\n`);
    expect(run.stdout.match(/::endgroup::/g)).toHaveLength(4);
    expect(run.stdout).toMatch(/phase [A-Z_]+/);
    expect(run.stdout).toMatch(/2 children: .*SUCCEEDED/);

    const console = "https://us-east-1.console.aws.amazon.com";
    expect(run.summary).toContain("✅ released");
    expect(run.summary).toMatch(/\| build \| done \| \d+s \|/);
    expect(run.summary).toContain(`${console}/codesuite/codebuild/projects/etl-image/build/`);
    expect(run.summary).toContain(`${console}/ecr/repositories/private/123456789012/act-pass/_/image/sha256`);
    expect(run.summary).toContain(`${console}/batch/home?region=us-east-1#job-definition/detail/arn`);
    expect(run.summary).toContain(`${console}/batch/home?region=us-east-1#jobs/detail/${run.outputs["canary-job-id"]}`);
    expect(run.summary).toContain(`https://github.com/acme/app/commit/${sha}`);
    // The head commit's message from the push event, escaped: no tag, no link, no emphasis.
    expect(run.summary).toContain("&lt;script&gt;");
    expect(run.summary).not.toMatch(/<script>|\]\(javascript|\*\*bold/);
    expect(run.summary).not.toContain("body");
    // The names' newest revisions, saved for the next run (an `actions/cache` step keeps the folder).
    const saved = JSON.parse(readFileSync(join(TEST_CACHE_DIR, "revision-hints.json"), "utf8")) as { hints: Record<string, { revision: number }> };
    expect(Object.entries(saved.hints).filter(([key]) => / act-pass(-canary)?$/.test(key)).map(([, hint]) => hint.revision)).toEqual([1, 1]);
  });

  it("fails the step for a failed canary, with the failing children in the summary", async () => {
    emu.jobs.failChildren("act-fail", [1], { exitCode: 3, reason: "Essential container in task exited" });
    const sha = await repo.commit({ "pipelines/act-fail.yml": pipelineYaml("act-fail") });

    const run = await step(sha, { pipeline: "pipelines/act-fail.yml" });

    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ status: "failed", "canary-result": "failed", promoted: "false" });
    expect(run.outputs["canary-job-id"]).toBeTruthy();
    expect(run.outputs["job-definition-arn"]).toBeUndefined();
    expect(run.stdout).toMatch(/^::error title=batchship release%3A CANARY_FAILED::Canary .* 1 of 2 children failed/m);
    expect(run.summary).toContain("❌ release failed");
    expect(run.summary).toContain("**Failed children**");
    expect(run.summary).toMatch(/\| \[<code>[^|]+\\:1<\/code>\]\([^)]+\) \| 3 \| Essential container in task exited \|/);
    expect(run.summary).toMatch(/\| 1 \| 1 \|\n/); // SUCCEEDED 1, FAILED 1: the last two columns
  });

  it("awaits promotion in manual mode; `command: promote` promotes it", async () => {
    const sha = await repo.commit({ "pipelines/act-manual.yml": pipelineYaml("act-manual", { mode: "manual" }) });

    const released = await step(sha, { pipeline: "pipelines/act-manual.yml" });
    expect(released.code, released.stdout).toBe(0);
    expect(released.outputs).toMatchObject({ status: "awaiting-promotion", "canary-result": "passed", promoted: "false" });
    expect(released.outputs["job-definition-arn"]).toBeUndefined();
    expect(released.summary).toContain("awaiting promotion");
    expect(released.summary).toContain(`\`commit: ${sha}\``);

    // A workflow_dispatch run later, naming the commit.
    const promoted = await step(await repo.commit({ "README.md": "later\n" }), {
      pipeline: "pipelines/act-manual.yml",
      command: "promote",
      commit: sha,
    });
    expect(promoted.code, promoted.stdout).toBe(0);
    expect(promoted.outputs).toMatchObject({
      "release-id": released.outputs["release-id"],
      status: "promoted",
      "image-digest": released.outputs["image-digest"],
      "candidate-job-definition-arn": released.outputs["candidate-job-definition-arn"],
      "job-definition-arn": expect.stringMatching(/:job-definition\/act-manual:1$/),
      promoted: "true",
    });
    expect(promoted.summary).toContain("✅ promoted");
  });

  it("with `wait: false` returns once the canary is submitted; a waiting run follows the same canary", async () => {
    emu.jobs.runFor("act-nowait", 3);
    const sha = await repo.commit({ "pipelines/act-nowait.yml": pipelineYaml("act-nowait") });
    const submitted = emu.count("SubmitJob");

    const early = await step(sha, { pipeline: "pipelines/act-nowait.yml", wait: "false" });
    expect(early.code, early.stdout).toBe(0);
    expect(early.outputs).toMatchObject({ status: "canary-running", "canary-result": "running", promoted: "false" });
    expect(early.summary).toContain("⏳ canary submitted");

    const waited = await step(sha, { pipeline: "pipelines/act-nowait.yml" });
    expect(waited.code, waited.stdout).toBe(0);
    expect(waited.outputs).toMatchObject({ status: "promoted", "canary-job-id": early.outputs["canary-job-id"], promoted: "true" });
    expect(emu.count("SubmitJob") - submitted).toBe(1);
  });

  it("fails on a bad input value, naming the input, before touching AWS", async () => {
    const sha = await repo.commit({ "pipelines/act-input.yml": pipelineYaml("act-input") });
    const before = emu.calls.length;

    const wait = await step(sha, { pipeline: "pipelines/act-input.yml", wait: "True" });
    const command = await step(sha, { pipeline: "pipelines/act-input.yml", command: "deploy" });
    const commit = await step(sha, { pipeline: "pipelines/act-input.yml", commit: "HEAD~1" });
    const tag = await step(sha, { pipeline: "pipelines/act-input.yml" }, "refs/tags/v1.0.0");

    expect([wait.code, command.code, commit.code, tag.code]).toEqual([1, 1, 1, 1]);
    expect(wait.stdout).toMatch(/^::error title=batchship release%3A USAGE::Invalid input wait: "True": expected true or false/m);
    expect(command.stdout).toMatch(/::error .*::Invalid input command: "deploy"/);
    expect(commit.stdout).toMatch(/::error .*::Invalid input commit: "HEAD~1": expected a full 40-character/);
    expect(tag.stdout).toMatch(/::error .*::Invalid input branch: .*refs\/tags\/v1\.0\.0.* set the branch input/);
    expect(wait.summary).toContain("❌ failed");
    expect(wait.outputs).toEqual({});
    expect(emu.calls.length).toBe(before);
  });

  it("fails on a missing pipeline file and on an invalid spec, with the cause and the fix", async () => {
    const sha = await repo.commit({ "pipelines/act-invalid.yml": "apiVersion: batchship/v1\nname: act-invalid\nsoruce: {}\n" });
    const before = emu.calls.length;

    const missing = await step(sha, { pipeline: "pipelines/missing.yml" });
    const invalid = await step(sha, { pipeline: "pipelines/act-invalid.yml" });

    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^::error title=batchship release%3A GIT::Could not read pipelines\/missing\.yml at [0-9a-f]{12}.*%0AFix: /m);
    expect(missing.summary).toContain("**Fix:**");
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^::error title=batchship release%3A SPEC_INVALID::.*act-invalid\.yml:3:1/m);
    expect(emu.calls.length).toBe(before);
  });

  it("says which image a commit reused, with no build id; `rebuild: true` builds", async () => {
    // The image is built from app/: the pipeline file and the README are outside its context.
    const yaml = pipelineYaml("act-reuse").replace("image:\n  repository: act-reuse\n", "image:\n  repository: act-reuse\n  context: app\n  dockerfile: app/Dockerfile\n");
    const built = await step(await repo.commit({ "pipelines/act-reuse.yml": yaml, "app/Dockerfile": "FROM busybox\n" }), { pipeline: "pipelines/act-reuse.yml" });
    expect(built.code, built.stdout).toBe(0);
    expect(built.outputs["image-reused-from"]).toBeUndefined();

    const reused = await step(await repo.commit({ "README.md": "reuse\n" }), { pipeline: "pipelines/act-reuse.yml" });
    expect(reused.code, reused.stdout).toBe(0);
    expect(reused.outputs).toMatchObject({ status: "promoted", "image-digest": built.outputs["image-digest"], "image-reused-from": expect.stringMatching(/^batchship-key-[0-9a-f]{64}$/) });
    expect(reused.outputs["build-id"]).toBeUndefined();

    const rebuilt = await step(await repo.commit({ "README.md": "rebuild\n" }), { pipeline: "pipelines/act-reuse.yml", rebuild: "true" });
    expect(rebuilt.code, rebuilt.stdout).toBe(0);
    expect(rebuilt.outputs).toMatchObject({ status: "promoted", "build-id": expect.stringMatching(/^etl-image:/) });
    expect(rebuilt.outputs["image-reused-from"]).toBeUndefined();
    expect(rebuilt.outputs["image-digest"]).not.toBe(built.outputs["image-digest"]);
  });
});
