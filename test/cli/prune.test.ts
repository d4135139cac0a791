import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import type { JobPlatform } from "../../src/release/ports.js";
import { TAG } from "../../src/release/tags.js";
import { emulatorEnv, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { pipelineYaml } from "./pipeline-yaml.js";
import { runCli } from "./run-cli.js";

let emu: Emulator;
let repo: TestRepo;
let platform: JobPlatform;
beforeAll(async () => {
  emu = await startEmulator();
  repo = await createTestRepo();
  platform = createAwsBackend(testClientConfig(emu)).platform;
});
afterAll(async () => {
  await emu?.close();
  await repo?.remove();
});

const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/pruned@sha256:${"b".repeat(64)}`;

describe("batchship prune", () => {
  it("--dry-run lists what would go and changes nothing; then prune deregisters it, oldest first", async () => {
    await repo.commit({ "pipelines/pruned.yml": `${pipelineYaml("pruned")}retention:\n  candidates: 1\n  production: 2\n` });
    const file = `${repo.dir}/pipelines/pruned.yml`;
    const body = { type: "container" as const, platformCapabilities: ["EC2"], containerProperties: { image: IMAGE, vcpus: 1, memory: 256 } };
    for (let i = 1; i <= 4; i++) {
      const tags = { [TAG.release]: `pruned-${i}`, [TAG.canary]: "passed" };
      const candidate = await platform.registerJobDefinition("pruned-canary", body, tags);
      await platform.registerJobDefinition("pruned", body, { ...tags, [TAG.candidate]: candidate.arn });
    }
    const revisions = async (name: string) => (await platform.listJobDefinitionRevisions(name)).map((r) => r.revision);

    const dry = await runCli(["prune", "-p", file, "--dry-run", "--json"], emulatorEnv(emu));
    expect(dry.code, dry.stderr).toBe(0);
    const planned = JSON.parse(dry.stdout);
    expect(planned).toMatchObject({ pipeline: "pruned", dryRun: true });
    // Candidate revision 1 stays: the name's anchor.
    expect(planned.candidates.deregistered.map((r: { revision: number }) => r.revision)).toEqual([2, 3]);
    expect(planned.production.deregistered.map((r: { revision: number }) => r.revision)).toEqual([1, 2]);
    expect(await revisions("pruned")).toEqual([4, 3, 2, 1]);

    const run = await runCli(["prune", "-p", file], emulatorEnv(emu));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("pruned-canary: 4 ACTIVE, kept 2, deregistered 2 (revisions 2, 3)");
    expect(run.stderr).toContain("pruned: 4 ACTIVE, kept 2, deregistered 2 (revisions 1, 2)");
    expect(await revisions("pruned-canary")).toEqual([4, 1]);
    expect(await revisions("pruned")).toEqual([4, 3]);
  });
});
