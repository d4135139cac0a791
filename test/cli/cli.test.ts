import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  await createFixtures(emu, { jobQueues: ["cli-pass", "cli-fail", "cli-manual"], codebuildProject: "etl-image" });
  env = emulatorEnv(emu);
  repo = await createTestRepo();
});
afterAll(async () => {
  await emu?.close();
  await repo?.remove();
});

describe("batchship CLI (the built binary, configured by the standard AWS environment)", () => {
  it("releases HEAD and prints one JSON object", async () => {
    const sha = await repo.commit({ "pipelines/cli-pass.yml": pipelineYaml("cli-pass"), "src/job.py": "print(1)\n" });

    const run = await runCli(["release", "--pipeline", `${repo.dir}/pipelines/cli-pass.yml`, "--poll-interval", "0.05", "--json"], env);

    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({
      releaseId: `cli-pass-${sha.slice(0, 12)}`,
      pipeline: "cli-pass",
      commit: sha,
      branch: "main",
      status: "promoted",
      image: { digest: expect.stringMatching(/^sha256:/) },
      candidate: { revision: 1 },
      canary: { result: "passed", summary: { SUCCEEDED: 2 } },
      production: { revision: 1 },
    });
  });

  it("prints progress per stage on stderr and exits 1 when the canary fails", async () => {
    emu.jobs.failChildren("cli-fail", [1], { exitCode: 2, reason: "Essential container in task exited" });
    await repo.commit({ "pipelines/cli-fail.yml": pipelineYaml("cli-fail") });

    const run = await runCli(["release", "-p", `${repo.dir}/pipelines/cli-fail.yml`, "--poll-interval", "0.05"], env);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/\[build\] done in \d+s/);
    expect(run.stderr).toMatch(/\[canary\] [\dmhs]+ 2 children: .*SUCCEEDED/);
    expect(run.stderr).toMatch(/release cli-fail-[0-9a-f]{12} failed: Canary .* 1 of 2 children failed/);
    expect(run.stderr).toMatch(/child [^ ]+:1: exit 2 Essential container in task exited/);
  });

  it("awaits promotion in manual mode; promote then status show the production revision", async () => {
    const sha = await repo.commit({ "pipelines/cli-manual.yml": pipelineYaml("cli-manual", { mode: "manual" }) });
    const file = `${repo.dir}/pipelines/cli-manual.yml`;

    const released = await runCli(["release", "-p", file, "--poll-interval", "0.05", "--json"], env);
    expect(released.code, released.stderr).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ status: "awaiting-promotion", production: null });

    const promoted = await runCli(["promote", "-p", file, "--commit", sha, "--json"], env);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(JSON.parse(promoted.stdout)).toMatchObject({ alreadyPromoted: false, production: { revision: 1 } });

    const status = await runCli(["status", "-p", file, "--json"], env);
    expect(JSON.parse(status.stdout)).toMatchObject({
      production: { revision: 1, commit: sha },
      awaitingPromotion: [],
    });
  });

  it("saves the newest revision numbers in its cache directory, and the next run starts its lookups there", async () => {
    const cache = mkdtempSync(join(tmpdir(), "batchship-cli-cache-"));
    try {
      await repo.commit({ "pipelines/cli-hints.yml": pipelineYaml("cli-hints", { queue: "cli-pass" }) });
      const file = `${repo.dir}/pipelines/cli-hints.yml`;
      const withCache = { ...env, BATCHSHIP_CACHE_DIR: cache };
      const released = await runCli(["release", "-p", file, "--poll-interval", "0.05", "--json"], withCache);
      expect(released.code, released.stderr).toBe(0);
      expect(readdirSync(cache)).toContain("revision-hints.json");

      /** A `status` run's output, and the numbers its first lookup asks for. */
      const status = async (runEnv: Record<string, string>) => {
        const start = emu.calls.length;
        const run = await runCli(["status", "-p", file, "--json"], runEnv);
        expect(run.code, run.stderr).toBe(0);
        const first = emu.calls.slice(start).find((call) => call.operation === "DescribeJobDefinitions")?.input as { jobDefinitions: string[] };
        return { output: JSON.parse(run.stdout) as unknown, asked: first.jobDefinitions };
      };
      const cold = await status({ ...env, BATCHSHIP_CACHE_DIR: join(cache, "another") });
      const warm = await status(withCache);

      expect(warm.output).toEqual(cold.output);
      expect(warm.output).toMatchObject({ production: { revision: 1 } });
      // With nothing saved the search reaches for the highest revision number there can be; from
      // the saved number it asks only the numbers around it.
      expect(cold.asked).toContain("cli-hints-canary:2147483647");
      expect(warm.asked).not.toContain("cli-hints-canary:2147483647");
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("exits 3 with the AWS error name and a hint when the canary queue does not exist", async () => {
    await repo.commit({ "pipelines/no-queue.yml": pipelineYaml("no-queue", { queue: "missing-queue" }) });

    const run = await runCli(["release", "-p", `${repo.dir}/pipelines/no-queue.yml`, "--poll-interval", "0.05"], env);

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/ClientException|JobQueue/);
    expect(run.stderr).toMatch(/hint:/);
  });

  it("doctor passes for a pipeline whose project and queue exist, and fails (exit 3) naming a missing queue", async () => {
    await repo.commit({
      "pipelines/doctor-ok.yml": pipelineYaml("doctor-ok", { queue: "cli-pass" }),
      "pipelines/doctor-bad.yml": pipelineYaml("doctor-bad", { queue: "no-such-queue" }),
    });

    const ok = await runCli(["doctor", "-p", `${repo.dir}/pipelines/doctor-ok.yml`], env);
    const bad = await runCli(["doctor", "-p", `${repo.dir}/pipelines/doctor-bad.yml`], env);

    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK +.*etl-image/m);
    expect(ok.stdout).not.toMatch(/^FAIL/m);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/^FAIL .*no-such-queue/m);
  });

  it("exits 3 with a hint when the AWS endpoint is unreachable", async () => {
    await repo.commit({ "pipelines/offline.yml": pipelineYaml("offline") });
    const offline = { ...env, AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" };

    const run = await runCli(["release", "-p", `${repo.dir}/pipelines/offline.yml`], offline);

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/hint: .*AWS_ENDPOINT_URL/);
  });

  it("exits 2 on unknown flags and on a commit that is not in the repository, before touching AWS", async () => {
    await repo.commit({ "pipelines/cli-usage.yml": pipelineYaml("cli-usage") });
    const before = emu.calls.length;
    const file = `${repo.dir}/pipelines/cli-usage.yml`;

    const flag = await runCli(["release", "-p", file, "--comit", "abc"], env);
    const commit = await runCli(["release", "-p", file, "--commit", "0".repeat(40)], env);
    const branch = await runCli(["release", "-p", file, "--branch", "bad..name"], env);
    const option = await runCli(["release", "-p", file, "--commit", "--upload-pack=touch"], env);
    execFileSync("git", ["branch", "feature/x"], { cwd: repo.dir });
    const untracked = await runCli(["release", "-p", file, "--branch", "feature/x"], env);
    execFileSync("git", ["checkout", "-q", "-b", "side"], { cwd: repo.dir });
    const sideCommit = await repo.commit({ "side.txt": "side\n" });
    execFileSync("git", ["checkout", "-q", "main"], { cwd: repo.dir });
    const offBranch = await runCli(["release", "-p", file, "--commit", sideCommit, "--branch", "main"], env);

    expect([flag.code, commit.code, branch.code, option.code, untracked.code, offBranch.code]).toEqual([2, 2, 2, 2, 2, 2]);
    expect(offBranch.stderr).toMatch(/Commit [0-9a-f]{12} is not on branch main/);
    const jsonError = await runCli(["promote", "-p", file, "--commit", "0".repeat(40), "--json"], env);
    expect(jsonError.code).toBe(2);
    expect(JSON.parse(jsonError.stdout)).toMatchObject({ error: { code: "GIT", message: expect.stringMatching(/resolve commit/) } });
    expect(untracked.stderr).toMatch(/Branch "feature\/x" is not tracked by pipeline cli-usage/);
    expect(commit.stderr).toMatch(/Could not resolve commit/);
    expect(branch.stderr).toMatch(/Invalid branch name/);
    expect(emu.calls.length).toBe(before);
  });
});
