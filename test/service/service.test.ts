import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEAP_GROWING_PERCENT } from "../../src/server/heap-growth.js";
import { createFixtures, startEmulator, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { releaseCalls } from "./aws-calls.js";
import { examplePayload, post, pushPayload, signBody, signDelivery } from "./deliveries.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import {
  API_TOKEN,
  GITHUB_TOKEN,
  OLD_SECRET,
  SECRET,
  createServiceDirs,
  servicePipelineYaml,
  serviceSetup,
  type ServiceDirs,
} from "./service-fixture.js";
import { startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

let emu: Emulator;
let repo: TestRepo;
let dirs: ServiceDirs;
let github: GitHubStandIn;
let service: ServiceProcess;

const AUTO = "acme/svc-auto";
const MANUAL = "acme/svc-manual";

beforeAll(async () => {
  [emu, repo, dirs, github] = await Promise.all([startEmulator(), createTestRepo(), createServiceDirs(), startGitHubStandIn()]);
  await createFixtures(emu, { jobQueues: ["svc-auto", "svc-manual"], codebuildProject: "svc-image" });
  await dirs.writePipeline("svc-auto", servicePipelineYaml("svc-auto", { repository: AUTO, url: `file://${repo.dir}` }));
  await dirs.writePipeline("svc-manual", servicePipelineYaml("svc-manual", { repository: MANUAL, url: `file://${repo.dir}`, mode: "manual" }));
  const { env, args } = serviceSetup(emu, dirs, github.url);
  service = await startServiceProcess(args, env);
});
afterAll(async () => {
  if (service) await stopGracefully(service);
  await Promise.all([emu?.close(), repo?.remove(), dirs?.remove(), github?.close()]);
});

const json = async (path: string, init: RequestInit = {}) => {
  const response = await fetch(`${service.url}${path}`, init);
  return { status: response.status, body: (await response.json()) as any };
};
const releaseDone = (id: string) =>
  waitFor(`release ${id} to finish`, async () => {
    const { body } = await json(`/api/releases/${id}`);
    return ["promoted", "awaiting-promotion", "failed"].includes(body.status) ? body : undefined;
  });

describe("batchship serve: receiving", () => {
  it("verifies GitHub's documented signature test vector and either rotation secret", async () => {
    const { createSignatureVerifier } = await import("../../src/github/verify-signature.js");
    const verify = createSignatureVerifier(["It's a Secret to Everybody"]);
    expect(await verify("Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")).toBe(true);
    expect(await verify("Hello, World?", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")).toBe(false);
    expect(await verify("Hello, World!", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59")).toBe(false);

    const rotating = createSignatureVerifier([OLD_SECRET, SECRET]);
    for (const secret of [OLD_SECRET, SECRET]) {
      const signed = await signDelivery(secret, "ping", { zen: "x" });
      expect(await rotating(signed.body, signed.headers["x-hub-signature-256"] ?? "")).toBe(true);
    }
  });

  it("answers bad input with a clear status and records nothing", async () => {
    const before = await json("/api/releases");
    const push = pushPayload(AUTO, "a".repeat(40));
    const good = await signDelivery(SECRET, "push", push);
    const send = (headers: Record<string, string>, body: string, path = "/webhook", method = "POST") =>
      fetch(`${service.url}${path}`, { method, headers, ...(method === "GET" ? {} : { body }) });

    const { "x-hub-signature-256": _, ...unsigned } = good.headers;
    expect((await send(unsigned, good.body)).status).toBe(401);
    expect((await send({ ...good.headers, "x-hub-signature-256": "sha256=" + "0".repeat(64) }, good.body)).status).toBe(401);
    const wrongSecret = await signDelivery("not-the-secret", "push", push);
    expect((await send(wrongSecret.headers, wrongSecret.body)).status).toBe(401);
    expect((await send({ ...good.headers, "content-type": "application/x-www-form-urlencoded" }, good.body)).status).toBe(415);
    const notJson = "{not json";
    const malformed = await signBody(SECRET, "push", notJson);
    const badJson = await send(malformed.headers, notJson);
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as any).error.code).toBe("MALFORMED_JSON");
    const noAfter = await signDelivery(SECRET, "push", { ...push, after: "not-a-sha" });
    expect((await send(noAfter.headers, noAfter.body)).status).toBe(400);

    const huge = "x".repeat(70_000);
    const tooLarge = await send({ ...good.headers }, huge);
    expect(tooLarge.status).toBe(413);
    expect((await send(good.headers, good.body, "/nope")).status).toBe(404);
    const wrongMethod = await send(good.headers, good.body, "/webhook", "GET");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");

    const after = await json("/api/releases");
    expect(after.body.releases).toEqual(before.body.releases);
    expect(service.output()).not.toContain(SECRET);
  });

  it("answers ping with 200, ignores other events, deleted branches and unknown repositories with 204", async () => {
    const ping = await post(service.url, await signDelivery(SECRET, "ping", examplePayload("ping")));
    expect(ping.status).toBe(200);
    const issue = await post(service.url, await signDelivery(SECRET, "issues", examplePayload("issues")));
    expect(issue.status).toBe(204);
    const deleted = { ...pushPayload(AUTO, "0".repeat(40)), deleted: true };
    expect((await post(service.url, await signDelivery(SECRET, "push", deleted))).status).toBe(204);
    const unknown = examplePayload("push", 4); // Codertocat/Hello-World: no pipeline names it
    expect((await post(service.url, await signDelivery(SECRET, "push", unknown))).status).toBe(204);
    const tag = pushPayload(AUTO, "b".repeat(40));
    tag.ref = "refs/tags/v1";
    expect((await post(service.url, await signDelivery(SECRET, "push", tag))).status).toBe(204);

    await service.waitForLog((l) => l.msg === "delivery ignored" && l.reason === "no pipeline names this repository");
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/batchship_webhook_deliveries_total\{outcome="ignored"\} 4/);
    expect(metrics).toMatch(/batchship_webhook_deliveries_total\{outcome="ping"\} 1/);
  });
});

describe("batchship serve: releasing", () => {
  it("releases a pushed commit to promotion, once per delivery id, reporting statuses through a GitHub outage", async () => {
    const sha = await repo.commit({ "app.py": "print('auto')\n" });
    github.failNext(3);
    const signed = await signDelivery(OLD_SECRET, "push", pushPayload(AUTO, sha));

    const first = await post(service.url, signed);
    expect(first.status).toBe(202);
    const id = `svc-auto-${sha.slice(0, 12)}`;
    expect(await first.json()).toMatchObject({ releases: [id] });
    const again = await post(service.url, signed);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ duplicate: true, releases: [] });

    const release = await releaseDone(id);
    expect(release.error).toBeNull();
    expect(release).toMatchObject({
      status: "promoted",
      commit: sha,
      image: { digest: expect.stringMatching(/^sha256:/) },
      canary: { result: "passed", summary: { SUCCEEDED: 2 } },
      production: { revision: 1 },
    });
    expect(release.stages.map((s: any) => s.stage)).toEqual(["build", "candidate", "canary", "promote"]);
    expect(release.stages.every((s: any) => s.startedAt && s.finishedAt && s.outcome)).toBe(true);
    expect(releaseCalls(emu, id, "svc-auto")).toEqual({ startBuild: 1, candidateRegistrations: 1, promotions: 1, submitJob: 1 });

    const final = await waitFor("the success status", () => {
      const s = github.latest(sha, "batchship/svc-auto");
      return s?.state === "success" ? s : undefined;
    });
    expect(final.description).toBe("canary 2/2 passed, promoted svc-auto:1");
    // Started without --public-url: the service knows no address GitHub's readers could open.
    expect(final.target_url).toBeUndefined();
    expect(final.authorization).toBe(`token ${GITHUB_TOKEN}`);
    expect(github.failed).toBe(3);
    expect(github.statuses.filter((s) => s.sha === sha)[0]?.state).toBe("pending");
    await service.waitForLog((l) => l.msg === "commit status failed; will retry" && l.releaseId === id);

    const line = service.logs.find((l) => l.msg === "release finished" && l.releaseId === id);
    expect(line).toMatchObject({ pipeline: "svc-auto", status: "promoted" });
  });

  it("waits for promotion in manual mode; the API promotes with the bearer token, rollback needs it too", async () => {
    const sha = await repo.commit({ "app.py": "print('manual')\n" });
    expect((await post(service.url, await signDelivery(SECRET, "push", pushPayload(MANUAL, sha)))).status).toBe(202);
    const id = `svc-manual-${sha.slice(0, 12)}`;
    expect(await releaseDone(id)).toMatchObject({ status: "awaiting-promotion", production: null });

    expect((await json(`/api/releases/${id}/promote`, { method: "POST" })).status).toBe(401);
    expect((await json(`/api/releases/${id}/promote`, { method: "POST", headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const promoted = await json(`/api/releases/${id}/promote`, { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(promoted).toMatchObject({ status: 200, body: { alreadyPromoted: false, production: { revision: 1 } } });
    expect((await json(`/api/releases/${id}`)).body.status).toBe("promoted");
    await waitFor("the promoted status", () => (github.latest(sha, "batchship/svc-manual")?.state === "success" ? true : undefined));

    expect((await json("/api/pipelines/svc-manual/rollback", { method: "POST" })).status).toBe(401);
    const rollback = await json("/api/pipelines/svc-manual/rollback", { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(rollback).toMatchObject({ status: 409, body: { error: { code: "NOTHING_TO_ROLL_BACK" } } });
    expect((await json("/api/pipelines/nope/rollback", { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(404);

    const list = await json("/api/releases?pipeline=svc-manual");
    expect(list.body.releases.map((r: any) => r.id)).toEqual([id]);
  });

  it("serves health, readiness and Prometheus metrics; bounds its heap; never logs a secret; exits 0 on SIGTERM", async () => {
    expect((await json("/healthz")).status).toBe(200);
    expect(await json("/readyz")).toMatchObject({ status: 200, body: { checks: { storeWritable: true, pipelinesLoaded: true } } });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/batchship_releases_total\{status="promoted"\} 2/);
    expect(metrics).toMatch(/batchship_stage_duration_seconds_bucket\{le="[^"]+",stage="canary",outcome="done"\}/);
    expect(metrics).toMatch(/batchship_release_queue_depth 0/);
    // The loop is sampled from the start: a running service has counted turns, each in a bucket.
    expect(Number(/^batchship_event_loop_delay_seconds_count (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^batchship_event_loop_delay_seconds_bucket\{le="0\.05"\} \d+$/m);
    expect(metrics).toMatch(/batchship_webhook_deliveries_total\{outcome="duplicate"\} 1/);
    // Started with no V8 flags: the service bounds its heap's growth itself.
    expect(service.logs.find((l) => l.msg === "V8 heap growth set")).toMatchObject({ heapGrowingPercent: HEAP_GROWING_PERCENT, setBy: "service" });

    const output = service.output();
    for (const secret of [SECRET, OLD_SECRET, GITHUB_TOKEN, API_TOKEN]) expect(output).not.toContain(secret);

    const exit = await stopGracefully(service);
    expect(exit.code).toBe(0);
    expect(service.logs.at(-1)?.msg).toBe("service stopped");
  });

  it("refuses to start without a webhook secret or with a bad value, naming each variable", async () => {
    const bin = fileURLToPath(new URL("../../bin/batchship.js", import.meta.url));
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, "serve", "--pipelines", dirs.pipelines, "--port", "abc", "--poll-interval", "0.01"], { env: { PATH: process.env.PATH ?? "" } }, (error, _out, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr }),
      ),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/BATCHSHIP_WEBHOOK_SECRET is required/);
    expect(run.stderr).toMatch(/--port \/ BATCHSHIP_PORT/);
    expect(run.stderr).toContain("--poll-interval / BATCHSHIP_POLL_INTERVAL must be from 1 to 3600 seconds (got 0.01)");
  });
});
