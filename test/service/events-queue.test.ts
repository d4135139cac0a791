import { existsSync } from "node:fs";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServiceConfig } from "../../src/service/config.js";
import { createFixtures, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { post, pushPayload, signDelivery } from "./deliveries.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { SECRET, createServiceDirs, servicePipelineYaml, serviceSetup, type ServiceDirs } from "./service-fixture.js";
import { spawnServiceProcess, startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

let emu: Emulator;
let dirs: ServiceDirs;
let github: GitHubStandIn;
let repo: TestRepo;
let queueUrl: string;

beforeAll(async () => {
  [emu, dirs, github, repo] = await Promise.all([startEmulator(), createServiceDirs(), startGitHubStandIn(), createTestRepo()]);
  await createFixtures(emu, { jobQueues: ["evsvc"], codebuildProject: "svc-image" });
  // The queue infra/batchship-pipeline.yml makes with EventsQueue true; set up straight in moto.
  const sqs = new SQSClient(testClientConfig({ endpoint: emu.motoEndpoint, region: emu.region }));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "evsvc-events" }))).QueueUrl ?? "";
  sqs.destroy();
  await repo.commit({ "README.md": "app" }, "initial");
  await dirs.writePipeline("evsvc", servicePipelineYaml("evsvc", { repository: "acme/evsvc", url: `file://${repo.dir}` }));
}, 120_000);
afterAll(async () => {
  await Promise.all([emu?.close(), dirs?.remove(), github?.close(), repo?.remove()]);
});

describe("batchship serve --events-queue-url", () => {
  it("refuses a value that is not a queue URL, naming the flag and the variable", () => {
    const base = { BATCHSHIP_WEBHOOK_SECRET: SECRET, BATCHSHIP_PIPELINES: dirs.pipelines };
    expect(() => readServiceConfig({}, { ...base, BATCHSHIP_EVENTS_QUEUE_URL: "evsvc-events" })).toThrow(/--events-queue-url \/ BATCHSHIP_EVENTS_QUEUE_URL must be SQS queue URLs \(comma-separated\)/);
    expect(() => readServiceConfig({ eventsQueueUrl: "https://sqs.us-east-1.amazonaws.com/evsvc-events" }, base)).toThrow(/ending in \/<12-digit account id>\/<queue name>/);
    expect(() => readServiceConfig({ eventsSafetyNet: "0" }, base)).toThrow(/--events-safety-net \/ BATCHSHIP_EVENTS_SAFETY_NET must be from 1 to 3600 seconds/);
    const two = "https://sqs.eu-west-1.amazonaws.com/123456789012/etl-events, https://sqs.eu-west-1.amazonaws.com/123456789012/web-events";
    expect(readServiceConfig({}, { ...base, BATCHSHIP_EVENTS_QUEUE_URL: two })).toMatchObject({
      eventsQueueUrls: ["https://sqs.eu-west-1.amazonaws.com/123456789012/etl-events", "https://sqs.eu-west-1.amazonaws.com/123456789012/web-events"],
      eventsSafetyNetMs: 300_000,
    });
    expect(readServiceConfig({}, base).eventsQueueUrls).toEqual([]);
  });

  it("does not start on a queue that does not exist, and makes nothing first (exit 3)", async () => {
    const { env, args } = serviceSetup(emu, dirs, github.url);
    const missing = `${queueUrl.replace(/\/[^/]+$/, "")}/no-such-queue`;
    const process = spawnServiceProcess([...args, "--data-dir", `${dirs.root}/never-made`, "--events-queue-url", missing], env);
    expect((await process.exited).code).toBe(3);
    expect(process.output()).toContain(`Could not read the events queue ${missing} (BATCHSHIP_EVENTS_QUEUE_URL)`);
    expect(existsSync(`${dirs.root}/never-made`)).toBe(false);
  }, 30_000);

  it("with a 5-minute safety net, promotes within seconds of the canary job's end, and counts the events", async () => {
    const { env, args } = serviceSetup(emu, dirs, github.url);
    const service: ServiceProcess = await startServiceProcess([...args, "--events-queue-url", queueUrl, "--events-safety-net", "300"], env);
    try {
      emu.events.deliverTo(queueUrl);
      emu.jobs.runForMs("evsvc", 1_000);
      const sha = await repo.commit({ "app.txt": "v2" }, "v2");
      const payload = pushPayload("acme/evsvc", sha);
      expect((await post(service.url, await signDelivery(SECRET, "push", payload))).status).toBe(202);

      const parentEnd = await waitFor("the canary job's end event", () => emu.events.delivered().find((e) => !e.jobId.includes(":") && e.status === "SUCCEEDED"), 30_000);
      await waitFor("the release promoted", async () => {
        const response = await fetch(`${service.url}/api/releases/evsvc-${sha.slice(0, 12)}`);
        return response.status === 200 && ((await response.json()) as { status: string }).status === "promoted" ? true : undefined;
      }, 30_000);
      expect(Date.now() - parentEnd.at).toBeLessThan(5_000);

      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      const jobEvents = Number(/^batchship_events_received_total\{kind="job"\} (\d+)$/m.exec(metrics)?.[1]);
      expect(jobEvents).toBeGreaterThanOrEqual(2);
      expect(Number(/^batchship_events_last_received_timestamp_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      const ready = (await (await fetch(`${service.url}/readyz`)).json()) as { status: string };
      expect(ready.status).toBe("ready");
    } finally {
      emu.events.clear();
      emu.jobs.clear();
      expect((await stopGracefully(service)).code).toBe(0);
    }
  }, 60_000);
});
