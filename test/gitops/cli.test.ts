import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import { createFixtures, emulatorEnv, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { pipelineYaml } from "../cli/pipeline-yaml.js";
import { runCli } from "../cli/run-cli.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { createBareRemote, type BareRemote } from "./git-remote.js";

let emu: Emulator;
let repo: TestRepo;
let remote: BareRemote;
let env: Record<string, string>;
let cache: string;
beforeAll(async () => {
  emu = await startEmulator();
  await createFixtures(emu, { jobQueues: ["cli-gitops"], codebuildProject: "etl-image" });
  [repo, remote, cache] = await Promise.all([createTestRepo(), createBareRemote(), mkdtemp(join(tmpdir(), "batchship-cli-cache-"))]);
  // The records go to the config repository itself: the origin of the repository holding the pipeline.
  await simpleGit(repo.dir).addRemote("origin", remote.url);
  env = { ...emulatorEnv(emu), BATCHSHIP_CACHE_DIR: cache, BATCHSHIP_ACTOR: "alice", BATCHSHIP_GIT_TOKEN: "tok-never-shown" };
});
afterAll(async () => {
  await emu?.close();
  await Promise.all([repo?.remove(), remote?.remove(), rm(cache ?? "", { recursive: true, force: true })]);
});

const gitopsYaml = (name: string) => pipelineYaml(name).replace("  mode: auto\n", "  mode: auto\n  gitops:\n    branch: batchship/releases\n");

describe("batchship CLI with promotion.gitops", () => {
  it("releases into git, shows drift after a hand-made registration, reconciles, unholds", async () => {
    const sha = await repo.commit({ "pipelines/cli-gitops.yml": gitopsYaml("cli-gitops") });
    const file = `${repo.dir}/pipelines/cli-gitops.yml`;

    const released = await runCli(["release", "-p", file, "--poll-interval", "0.05"], env);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stderr).toMatch(/\[git\] promoted cli-gitops-[0-9a-f]{12}: [0-9a-f]{12} on batchship\/releases/);
    expect(JSON.parse((await remote.show("releases/cli-gitops.json")) ?? "{}")).toMatchObject({ commit: sha });

    const backend = createAwsBackend(testClientConfig(emu));
    const [prod] = await backend.platform.listJobDefinitionRevisions("cli-gitops");
    if (prod === undefined) throw new Error("no production revision");
    await backend.platform.registerJobDefinition("cli-gitops", { ...prod.body, containerProperties: { ...prod.body.containerProperties, image: "busybox:1" } }, {});

    const text = await runCli(["status", "-p", file], env);
    expect(text.stdout).toMatch(/git record cli-gitops-[0-9a-f]{12} /);
    expect(text.stdout).toMatch(/DRIFT: the production revision was registered outside batchship/);
    expect(text.stdout).toMatch(/batch: revision 2 {2}busybox:1 {2}release \(none\)/);
    const json = JSON.parse((await runCli(["status", "-p", file, "--json"], env)).stdout);
    expect(json.drift).toMatchObject({ batch: { revision: 2, releaseId: null }, git: { releaseId: `cli-gitops-${sha.slice(0, 12)}` } });

    const reconciled = await runCli(["reconcile", "-p", file, "--json"], env);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(JSON.parse(reconciled.stdout)).toMatchObject({ action: "registered", kind: "reapply", production: { revision: 3 } });
    expect(JSON.parse((await runCli(["status", "-p", file, "--json"], env)).stdout).drift).toBeNull();

    const unhold = await runCli(["unhold", "-p", file], env);
    expect(unhold.code).toBe(0);
    expect(unhold.stderr).toMatch(/^cli-gitops was not held$/m);
    for (const out of [released, text, reconciled, unhold]) expect(out.stdout + out.stderr).not.toContain("tok-never-shown");
    expect(await remote.show("releases/cli-gitops.json")).not.toContain("tok-never-shown");
  });

  it("exits 2 with a hint when the pipeline's repository has no origin and no repository is set", async () => {
    const lonely = await createTestRepo();
    try {
      await lonely.commit({ "p.yml": gitopsYaml("cli-gitops") });
      const run = await runCli(["status", "-p", `${lonely.dir}/p.yml`], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/no origin remote\n {2}hint: set promotion.gitops.repository/);
    } finally {
      await lonely.remove();
    }
  });
});
