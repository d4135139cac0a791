import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtures, startEmulator, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { post, pushPayload, signDelivery } from "./deliveries.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { SECRET, createServiceDirs, servicePipelineYaml, serviceSetup, type ServiceDirs } from "./service-fixture.js";
import { startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

let emu: Emulator;
let repo: TestRepo;
let dirs: ServiceDirs;
let github: GitHubStandIn;
let service: ServiceProcess;

beforeAll(async () => {
  [emu, repo, dirs, github] = await Promise.all([startEmulator(), createTestRepo(), createServiceDirs(), startGitHubStandIn()]);
  await createFixtures(emu, { jobQueues: ["burst"], codebuildProject: "svc-image" });
  await dirs.writePipeline("burst", servicePipelineYaml("burst", { repository: "acme/burst", url: `file://${repo.dir}` }));
  const { env, args } = serviceSetup(emu, dirs, github.url);
  service = await startServiceProcess(args, env);
});
afterAll(async () => {
  if (service) await stopGracefully(service);
  await Promise.all([emu?.close(), repo?.remove(), dirs?.remove(), github?.close()]);
});

describe("batchship serve: one release at a time per pipeline", () => {
  it("50 commits pushed quickly: the newest is promoted, older queued ones are superseded, none built twice", async () => {
    const shas: string[] = [];
    for (let i = 0; i < 50; i++) shas.push(await repo.commit({ "counter.txt": String(i) }));
    // The first release is held in its build until all 50 are queued behind it, however slow
    // the machine: the test never depends on posts landing before a build ends.
    const releaseBuilds = emu.builds.hold();
    for (const sha of shas) {
      const response = await post(service.url, await signDelivery(SECRET, "push", pushPayload("acme/burst", sha)));
      expect(response.status).toBe(202);
    }
    releaseBuilds();
    const newest = `burst-${shas.at(-1)?.slice(0, 12)}`;
    await waitFor("the newest release", async () => {
      const body = (await (await fetch(`${service.url}/api/releases/${newest}`)).json()) as any;
      return body.status === "promoted" ? body : undefined;
    }, 60_000);

    const { releases } = (await (await fetch(`${service.url}/api/releases?pipeline=burst&limit=100`)).json()) as { releases: any[] };
    expect(releases).toHaveLength(50);
    const byStatus = (status: string) => releases.filter((r) => r.status === status);
    // The first release runs while the others queue; its canary passes after the branch moved on,
    // so it is superseded too (production moves only to the head), but it did run.
    const ran = releases.filter((r) => r.startedAt !== null);
    expect(byStatus("queued")).toHaveLength(0);
    expect(byStatus("failed")).toHaveLength(0);
    expect(ran.length).toBeLessThanOrEqual(2);
    expect(byStatus("promoted")).toHaveLength(1);
    expect(byStatus("superseded")).toHaveLength(49);
    expect(byStatus("superseded").every((r) => r.supersededBy === newest)).toBe(true);
    // Every release that ran built once; superseded ones never reached AWS.
    expect(emu.count("StartBuild")).toBe(ran.length);
    expect(emu.count("SubmitJob")).toBe(ran.length);

    const older = shas[10] ?? "";
    await waitFor("the superseded status", () => (github.latest(older, "batchship/burst")?.state === "error" ? true : undefined));
    expect(github.latest(older, "batchship/burst")?.description).toBe(`superseded by ${shas.at(-1)?.slice(0, 12)}; not released`);
  });
});
