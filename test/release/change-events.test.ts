import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import { createSqsClient, startChangeListener, type ChangeListener } from "../../src/aws/sqs-change-listener.js";
import { createChangeHub } from "../../src/release/change-hub.js";
import { createEngineContext } from "../../src/release/context.js";
import type { ReleaseEvent } from "../../src/release/events.js";
import { realSleep } from "../../src/release/ports.js";
import { runRelease } from "../../src/release/run-release.js";
import { createFixtures, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { makeSpec } from "../support/spec.js";
import { randomSha } from "./harness.js";

/**
 * The engine on the real clock, with the events of the emulator's jobs arriving through a real
 * SQS queue in moto, read by the service's listener: the safety-net poll is minutes long, so
 * only the events can bring the verdict within seconds.
 */
const QUEUES = ["ev-fast", "ev-lost", "ev-build"];
const RUN_MS = 1_200;

let emu: Emulator;
let sqs: SQSClient;
let listener: ChangeListener | undefined;

beforeAll(async () => {
  emu = await startEmulator();
  await createFixtures(emu, { jobQueues: QUEUES, codebuildProject: "ev-image" });
  // Set-up straight to moto: the queue is the template's, not something batchship makes.
  sqs = new SQSClient(testClientConfig({ endpoint: emu.motoEndpoint, region: emu.region }));
}, 60_000);
afterEach(async () => {
  await listener?.stop();
  listener = undefined;
  emu.reset();
});
afterAll(async () => {
  sqs?.destroy();
  await emu?.close();
});

async function newQueue(name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (QueueUrl === undefined) throw new Error("moto returned no queue URL");
  return QueueUrl;
}

function listen(queueUrl: string) {
  const hub = createChangeHub();
  const received: string[] = [];
  const warnings: string[] = [];
  const client = createSqsClient(testClientConfig(emu), queueUrl);
  listener = startChangeListener({
    client,
    queueUrl,
    publish: (change) => hub.publish(change),
    onMessage: (kind) => received.push(kind),
    warn: (message) => warnings.push(message),
    sleep: realSleep,
  });
  return { hub, received, warnings };
}

/** The canary's poll interval is long too: only a change can end a wait early. */
function engine(hub: ReturnType<typeof createChangeHub>, safetyNetIntervalMs: number) {
  const events: Array<ReleaseEvent & { at: number }> = [];
  const ctx = createEngineContext(createAwsBackend(testClientConfig(emu)), {
    observe: (event) => events.push({ ...event, at: Date.now() }),
    changes: hub,
    polling: { buildIntervalMs: 50, canaryIntervalMs: 20_000, retryDelayMs: 50, safetyNetIntervalMs, changeSettleMs: 50 },
  });
  return { ctx, events };
}

const canaryEnd = (events: Array<ReleaseEvent & { at: number }>) =>
  events.find((e) => e.type === "stage-finished" && e.stage === "canary")?.at ?? Number.NaN;

describe("events instead of polls", () => {
  it("with a 5-minute safety net, the canary's verdict follows its job's end within seconds, on a handful of polls", async () => {
    const queueUrl = await newQueue("ev-fast-events");
    emu.events.deliverTo(queueUrl);
    emu.jobs.runForMs("ev-fast", RUN_MS);
    const { hub, received } = listen(queueUrl);
    const { ctx, events } = engine(hub, 300_000);
    const spec = makeSpec({ name: "ev-fast", image: { repository: "ev-fast" }, build: { project: "ev-image" }, jobDefinition: { name: "ev-fast" }, canary: { jobQueue: "ev-fast", arraySize: 3 } });

    const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe("promoted");
    const parentEnd = emu.events.delivered().find((e) => !e.jobId.includes(":") && e.status === "SUCCEEDED");
    expect(parentEnd).toBeDefined();
    expect(canaryEnd(events) - (parentEnd?.at ?? 0)).toBeLessThan(3_000);
    // Woken by changes only: a few DescribeJobs of the parent, not one per poll interval.
    expect(emu.count("DescribeJobs")).toBeLessThan(8);
    expect(received.filter((kind) => kind === "job").length).toBeGreaterThanOrEqual(2);
    expect(hub.watched()).toBe(0);
  }, 30_000);

  it("a lost event and garbage on the queue break nothing: the safety-net poll ends the release", async () => {
    const queueUrl = await newQueue("ev-lost-events");
    emu.events.deliverTo(queueUrl);
    emu.jobs.runForMs("ev-lost", RUN_MS);
    const { hub, received, warnings } = listen(queueUrl);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{not json" }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ source: "aws.batch", "detail-type": "Batch Job State Change", detail: { status: 7 } }) }));
    // A single job: its RUNNING event, then its end, both lost.
    emu.events.loseNext(2);
    const safetyNetMs = 2_500;
    const { ctx, events } = engine(hub, safetyNetMs);
    const spec = makeSpec({ name: "ev-lost", image: { repository: "ev-lost" }, build: { project: "ev-image" }, jobDefinition: { name: "ev-lost" }, canary: { jobQueue: "ev-lost", arraySize: 1 } });
    const started = Date.now();

    const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe("promoted");
    expect(emu.events.delivered()).toEqual([]);
    // Nothing woke the follow: the verdict waited for the safety net.
    expect(canaryEnd(events) - started).toBeGreaterThanOrEqual(safetyNetMs);
    expect(received.filter((kind) => kind === "malformed")).toHaveLength(2);
    expect(warnings.filter((w) => w.startsWith("dropped a message"))).toHaveLength(2);
    // Garbage is deleted, not received again and again: the queue is empty, nothing in flight either.
    await realSleep(200);
    const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
    expect(left.Attributes).toEqual({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
    expect(emu.count("DeleteMessage")).toBe(0);
    expect(emu.count("DeleteMessageBatch")).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it("a build's end, heard of, ends the build stage without waiting for the safety net", async () => {
    // CodeBuild's events, as the listener would publish them: the layer plays only Batch's.
    const hub = createChangeHub();
    const { ctx, events } = engine(hub, 300_000);
    const open = emu.builds.hold();
    const spec = makeSpec({ name: "ev-build", image: { repository: "ev-build" }, build: { project: "ev-image" }, jobDefinition: { name: "ev-build" }, canary: { jobQueue: "ev-build", arraySize: 1 } });
    const running = runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
    const started = await waitForEvent(events, "build-started");
    // Past the first, short wait: the follow now waits for a change.
    await realSleep(300);
    const before = emu.count("BatchGetBuilds");
    open();
    const endedAt = Date.now();
    hub.publish({ subject: { kind: "build", id: started.type === "build-started" ? started.buildId : "" }, ended: true });

    const result = await running;
    expect(result.status).toBe("promoted");
    const buildDone = events.find((e) => e.type === "stage-finished" && e.stage === "build")?.at ?? Number.NaN;
    expect(buildDone - endedAt).toBeLessThan(2_000);
    expect(emu.count("BatchGetBuilds") - before).toBeLessThanOrEqual(2);
  }, 30_000);
});

async function waitForEvent(events: ReleaseEvent[], type: ReleaseEvent["type"]): Promise<ReleaseEvent> {
  for (;;) {
    const found = events.find((e) => e.type === type);
    if (found) return found;
    await realSleep(10);
  }
}
