import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtures, startEmulator, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { releaseCalls } from "./aws-calls.js";
import { post, pushPayload, signDelivery } from "./deliveries.js";
import { API_TOKEN, SECRET, createServiceDirs, servicePipelineYaml, serviceSetup, type ServiceDirs } from "./service-fixture.js";
import { startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

let emu: Emulator;
let repo: TestRepo;
let dirs: ServiceDirs;
let service: ServiceProcess;

const PIPELINE = "excl-manual";
const REPOSITORY = `acme/${PIPELINE}`;
const AUTO = "excl-auto";
const write = { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } };

beforeAll(async () => {
  [emu, repo, dirs] = await Promise.all([startEmulator(), createTestRepo(), createServiceDirs()]);
  await createFixtures(emu, { jobQueues: [PIPELINE, AUTO], codebuildProject: "svc-image" });
  await dirs.writePipeline(PIPELINE, servicePipelineYaml(PIPELINE, { repository: REPOSITORY, url: `file://${repo.dir}`, mode: "manual" }));
  await dirs.writePipeline(AUTO, servicePipelineYaml(AUTO, { repository: `acme/${AUTO}`, url: `file://${repo.dir}` }));
  const { env, args } = serviceSetup(emu, dirs, "http://127.0.0.1:9");
  // No commit statuses: this file is about the write API.
  delete env.BATCHSHIP_GITHUB_TOKEN;
  service = await startServiceProcess(args, env);
});
afterAll(async () => {
  if (service) await stopGracefully(service);
  await Promise.all([emu?.close(), repo?.remove(), dirs?.remove()]);
});

const json = async (path: string, init: RequestInit = {}) => {
  const response = await fetch(`${service.url}${path}`, init);
  return { status: response.status, body: (await response.json()) as any };
};
const statusOf = async (id: string): Promise<string> => (await json(`/api/releases/${id}`)).body.status;
const reached = (id: string, statuses: string[]) =>
  waitFor(`release ${id} to be ${statuses.join(" or ")}`, async () => {
    const { body } = await json(`/api/releases/${id}`);
    return statuses.includes(body.status) ? body : undefined;
  });
async function push(content: string, pipeline = PIPELINE): Promise<string> {
  const sha = await repo.commit({ "app.py": content });
  expect((await post(service.url, await signDelivery(SECRET, "push", pushPayload(`acme/${pipeline}`, sha)))).status).toBe(202);
  return `${pipeline}-${sha.slice(0, 12)}`;
}
/** `n` identical requests sent together (a double click, a proxy's retry), answered in any order. */
const together = (path: string, n: number) => Promise.all(Array.from({ length: n }, () => json(path, write)));
const productionRegistrations = () => emu.calls.filter((c) => c.forwarded && c.operation === "RegisterJobDefinition" && c.input.jobDefinitionName === PIPELINE).length;

describe("batchship serve: one promotion or rollback at a time per pipeline", () => {
  it("concurrent promotes of one release register production once; the others get 409 PIPELINE_BUSY; a queued release waits and then runs", async () => {
    const a = await push("print('a')\n");
    expect(await reached(a, ["awaiting-promotion", "failed"])).toMatchObject({ status: "awaiting-promotion" });

    // Slow AWS answers keep the first promotion in flight while the others arrive.
    emu.faults.latency(150);
    const callsBefore = emu.calls.length;
    const promotes = together(`/api/releases/${a}/promote`, 3);
    // Nothing else talks to AWS now: a call is the promotion's.
    await waitFor("the promotion to reach AWS", () => (emu.calls.length > callsBefore ? true : undefined));
    const statusInFlight = await statusOf(a);
    // A push meanwhile is queued, and waits: the pipeline is held by the promotion.
    const b = await push("print('b')\n");
    const answers = await promotes;
    emu.faults.latency(0);

    // Production registered once, whoever asked.
    expect(releaseCalls(emu, a, PIPELINE).promotions).toBe(1);
    const ok = answers.filter((r) => r.status === 200);
    const busy = answers.filter((r) => r.status === 409);
    expect(ok).toHaveLength(1);
    expect(ok[0]?.body).toMatchObject({ alreadyPromoted: false, production: { revision: 1 } });
    expect(busy).toHaveLength(2);
    for (const refused of busy) {
      expect(refused.body.error).toMatchObject({ code: "PIPELINE_BUSY" });
      expect(refused.body.error.message).toBe(`Pipeline ${PIPELINE} is busy: release ${a} is being promoted through the API; try again when it has finished`);
    }
    expect(statusInFlight).toBe("promoting");
    expect(await statusOf(a)).toBe("promoted");

    // Let go, the pipeline runs the release that waited for it.
    expect(await reached(b, ["awaiting-promotion", "failed"])).toMatchObject({ status: "awaiting-promotion" });
    const promoted = service.logs.findIndex((l) => l.msg === "release promoted through the API" && l.releaseId === a);
    const started = service.logs.findIndex((l) => l.msg === "release started" && l.releaseId === b);
    expect(promoted).toBeGreaterThan(-1);
    expect(started).toBeGreaterThan(promoted);

    // Promoting a promoted release again is idempotent: the same revision, nothing registered.
    expect(await json(`/api/releases/${a}/promote`, write)).toMatchObject({ status: 200, body: { alreadyPromoted: true, production: { revision: 1 } } });
    expect(releaseCalls(emu, a, PIPELINE).promotions).toBe(1);
  });

  it("concurrent rollbacks roll back once", async () => {
    const b = (await json(`/api/releases?pipeline=${PIPELINE}&limit=1`)).body.releases[0].id as string;
    expect(await json(`/api/releases/${b}/promote`, write)).toMatchObject({ status: 200, body: { production: { revision: 2 } } });
    const before = productionRegistrations();

    emu.faults.latency(150);
    const answers = await together(`/api/pipelines/${PIPELINE}/rollback`, 2);
    emu.faults.latency(0);
    expect(productionRegistrations()).toBe(before + 1);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(answers.find((r) => r.status === 200)?.body).toMatchObject({ from: { revision: 2 }, to: { revision: 3 } });
    expect(answers.find((r) => r.status === 409)?.body.error).toMatchObject({
      code: "PIPELINE_BUSY",
      message: `Pipeline ${PIPELINE} is busy: a rollback through the API is in flight; try again when it has finished`,
    });
  });

  it("neither runs while a release that promotes automatically runs; a manual pipeline's release holds nothing", async () => {
    emu.builds.slow(100_000);
    const auto = await push("print('auto')\n", AUTO);
    await reached(auto, ["running"]);
    const before = productionRegistrations();
    const rollback = await json(`/api/pipelines/${AUTO}/rollback`, write);
    expect(rollback).toMatchObject({ status: 409, body: { error: { code: "PIPELINE_BUSY", message: `Pipeline ${AUTO} is busy: release ${auto} is running; try again when it has finished` } } });

    // The manual pipeline's next commit builds; promoting an earlier release of it is not refused.
    const c = await push("print('c')\n");
    await reached(c, ["running"]);
    const a = (await json(`/api/releases?pipeline=${PIPELINE}&limit=3`)).body.releases[2].id as string;
    expect(await json(`/api/releases/${a}/promote`, write)).toMatchObject({ status: 200, body: { alreadyPromoted: true, production: { revision: 1 } } });
    // A release that cannot be promoted says so, busy pipeline or not.
    expect((await json(`/api/releases/${c}/promote`, write)).body.error.code).toBe("NOT_PROMOTABLE");
    expect(productionRegistrations()).toBe(before);
  });
});
