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
  await createFixtures(emu, { jobQueues: ["cli-reuse"], codebuildProject: "etl-image" });
  env = emulatorEnv(emu);
  repo = await createTestRepo();
});
afterAll(async () => {
  await emu?.close();
  await repo?.remove();
});

/** The image is built from app/: the pipeline file and the README are outside its context. */
const PIPELINE = pipelineYaml("cli-reuse").replace("image:\n  repository: cli-reuse\n", "image:\n  repository: cli-reuse\n  context: app\n  dockerfile: app/Dockerfile\n");

describe("batchship release: build once per content", () => {
  it("reuses the image for a commit outside the context, and builds again with --rebuild", async () => {
    const file = `${repo.dir}/pipelines/cli-reuse.yml`;
    await repo.commit({ "pipelines/cli-reuse.yml": PIPELINE, "app/Dockerfile": "FROM busybox\n", "README.md": "1\n" });
    const release = async (...flags: string[]) => {
      const run = await runCli(["release", "-p", file, "--poll-interval", "0.05", ...flags], env);
      expect(run.code, run.stderr).toBe(0);
      return run;
    };
    const first = JSON.parse((await release("--json")).stdout);
    expect(first.build).not.toBeNull();

    await repo.commit({ "README.md": "2\n" });
    const builds = emu.count("StartBuild");
    const reused = JSON.parse((await release("--json")).stdout);
    expect(emu.count("StartBuild")).toBe(builds);
    expect(reused).toMatchObject({ status: "promoted", build: null, image: { digest: first.image.digest, key: first.image.key } });
    expect(reused.image.reusedFrom).toMatch(/^batchship-key-[0-9a-f]{64}$/);

    await repo.commit({ "README.md": "3\n" });
    const rebuilt = await release("--rebuild");
    expect(emu.count("StartBuild")).toBe(builds + 1);
    expect(rebuilt.stderr).toMatch(/\[build\] started build/);

    await repo.commit({ "README.md": "4\n" });
    const after = await release();
    expect(after.stderr).toMatch(/\[build\] no build: same content as .*@sha256:[0-9a-f]{64} \(batchship-key-[0-9a-f]{64}-2\)/);
  });
});
