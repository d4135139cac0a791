/**
 * The delay between a canary job's end and batchship's verdict on it, polled (the service's
 * default 15-second poll) against event-driven (the job's state changes through an SQS queue,
 * a 5-minute safety-net poll), side by side in one run: the two modes take turns on canaries of
 * the same shape. The test layer ends each canary at a moment it chooses and plays EventBridge,
 * so the delay is measured from the true end. Run with `npm run bench:verdict-delay`; see
 * docs/benchmarks.md.
 */
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createAwsBackend } from "../src/aws/index.js";
import { createSqsClient, startChangeListener } from "../src/aws/sqs-change-listener.js";
import { createChangeHub, type ChangeHub } from "../src/release/change-hub.js";
import { createEngineContext } from "../src/release/context.js";
import type { ReleaseEvent } from "../src/release/events.js";
import { realSleep } from "../src/release/ports.js";
import { runRelease } from "../src/release/run-release.js";
import { createFixtures, startEmulator, testClientConfig, type Emulator } from "../test/emulator/index.js";
import { randomSha } from "../test/release/harness.js";
import { makeSpec } from "../test/support/spec.js";
import { describeEnvironment } from "./versions.js";

const RUNS_PER_MODE = 6;
const POLL_MS = 15_000;
const SAFETY_NET_MS = 300_000;
const SETTLE_MS = 1_000;
const ARRAY_SIZE = 3;
/** Canary run times, spread so the end falls anywhere within a poll interval. */
const RUN_MS = [3_000, 5_500, 8_000, 10_500, 13_000, 15_500];

type Mode = "polled" | "events";
interface Sample {
  mode: Mode;
  delayMs: number;
  describeJobs: number;
}

async function main(): Promise<void> {
  const emulator = await startEmulator();
  const backend = createAwsBackend(testClientConfig(emulator));
  const setup = new SQSClient(testClientConfig({ endpoint: emulator.motoEndpoint, region: emulator.region }));
  const queueUrl = (await setup.send(new CreateQueueCommand({ QueueName: "bench-events" }))).QueueUrl ?? "";
  setup.destroy();
  const hub = createChangeHub();
  const listener = startChangeListener({
    client: createSqsClient(testClientConfig(emulator), queueUrl),
    queueUrl,
    publish: (change) => hub.publish(change),
    onMessage: () => undefined,
    warn: (message) => progress(`listener: ${message}`),
    sleep: realSleep,
  });
  try {
    await createFixtures(emulator, { jobQueues: ["bench-polled", "bench-events"], codebuildProject: "bench-image" });
    emulator.events.deliverTo(queueUrl);
    const samples: Sample[] = [];
    for (let run = 0; run < RUNS_PER_MODE; run++) {
      for (const mode of ["polled", "events"] as const) {
        const sample = await measure(emulator, backend, mode === "events" ? hub : undefined, mode, RUN_MS[run % RUN_MS.length] ?? 5_000);
        progress(`${mode} run ${run + 1}: verdict ${(sample.delayMs / 1000).toFixed(2)} s after the job's end, ${sample.describeJobs} DescribeJobs`);
        samples.push(sample);
      }
    }
    printReport(samples);
  } finally {
    await listener.stop();
    for (const client of [backend.clients.batch, backend.clients.batchOnce, backend.clients.ecr, backend.clients.codebuild]) client.destroy();
    await emulator.close();
  }
}

async function measure(emulator: Emulator, backend: ReturnType<typeof createAwsBackend>, hub: ChangeHub | undefined, mode: Mode, runMs: number): Promise<Sample> {
  const queue = `bench-${mode}`;
  emulator.jobs.runForMs(queue, runMs);
  const events: Array<ReleaseEvent & { at: number }> = [];
  const ctx = createEngineContext(backend, {
    observe: (event) => events.push({ ...event, at: Date.now() }),
    ...(hub === undefined ? {} : { changes: hub }),
    polling: { buildIntervalMs: 1_000, canaryIntervalMs: POLL_MS, retryDelayMs: 1_000, safetyNetIntervalMs: SAFETY_NET_MS, changeSettleMs: SETTLE_MS },
  });
  const spec = makeSpec({
    name: queue,
    image: { repository: queue },
    build: { project: "bench-image" },
    jobDefinition: { name: queue },
    canary: { jobQueue: queue, arraySize: ARRAY_SIZE },
    promotion: { mode: "manual" },
  });
  const describedBefore = emulator.count("DescribeJobs");
  const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
  if (result.status !== "awaiting-promotion") throw new Error(`${mode}: the release ended ${result.status}: ${result.error?.message ?? ""}`);
  const submitted = events.find((e) => e.type === "canary-submitted");
  const verdict = events.find((e) => e.type === "stage-finished" && e.stage === "canary");
  const end = submitted?.type === "canary-submitted" ? emulator.jobs.endOf(submitted.jobId) : undefined;
  if (end === undefined || verdict === undefined) throw new Error(`${mode}: no canary end or verdict seen`);
  return { mode, delayMs: verdict.at - end, describeJobs: emulator.count("DescribeJobs") - describedBefore };
}

function printReport(samples: Sample[]): void {
  console.log("");
  console.log(`## Verdict delay: ${RUNS_PER_MODE} canaries per mode, array size ${ARRAY_SIZE}, run times ${RUN_MS.map((ms) => ms / 1000).join("/")} s`);
  console.log(describeEnvironment());
  console.log("");
  console.log("| mode | wait between polls | delay median | delay max | DescribeJobs per canary |");
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const mode of ["polled", "events"] as const) {
    const of = samples.filter((s) => s.mode === mode);
    const delays = of.map((s) => s.delayMs).sort((a, b) => a - b);
    const wait = mode === "polled" ? `${POLL_MS / 1000} s` : `change, else ${SAFETY_NET_MS / 1000} s`;
    const calls = of.reduce((sum, s) => sum + s.describeJobs, 0) / of.length;
    console.log(`| ${mode} | ${wait} | ${seconds(median(delays))} | ${seconds(delays.at(-1) ?? 0)} | ${calls.toFixed(1)} |`);
  }
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

await main();
