/**
 * How many AWS Batch calls following a canary array job costs: batchship's way (DescribeJobs
 * on the parent, whose statusSummary has the counts) against the naive way (list every child,
 * describe every child, every poll). Counts calls, not time: the counts are deterministic, wall
 * time on a shared machine is not. Run with `npm run bench:canary-polling`; see
 * docs/benchmarks.md.
 */
import { BatchClient } from "@aws-sdk/client-batch";
import { createAwsBackend } from "../src/aws/index.js";
import { createEngineContext } from "../src/release/context.js";
import type { Backend, JobDefinitionRevision } from "../src/release/ports.js";
import { releaseIdFor } from "../src/release/release-id.js";
import { registerCandidate } from "../src/release/stages/candidate.js";
import type { PipelineSpec } from "../src/spec/schema.js";
import { createFixtures, startEmulator, testClientConfig, type Emulator } from "../test/emulator/index.js";
import { makeSpec } from "../test/support/spec.js";
import { batchCallsIn, byOperation, formatOperations } from "./batch-calls.js";
import { measureBatchshipCanary } from "./batchship-canary.js";
import { naiveCallsPerPoll, naivePoll, type NaivePoll } from "./naive-poller.js";
import { describeEnvironment } from "./versions.js";

export const SIZES = [10, 1_000, 10_000] as const;
/** Children show RUNNING for this many DescribeJobs of the parent, then succeed. */
export const RUNNING_POLLS = 5;

export interface SizeResult {
  size: number;
  polls: number;
  batchshipPerPoll: number;
  batchshipWhole: number;
  batchshipWholeDetail: string;
  naivePerPoll: number;
  naiveWhole: number;
  naivePollDetail: string;
  /** naiveCallsPerPoll() for the states the naive poller saw: the formula the docs state. */
  naiveFormula: number;
  wallMs: number;
}

async function main(): Promise<void> {
  const emulator = await startEmulator();
  const backend = createAwsBackend(testClientConfig(emulator));
  const naiveClient = new BatchClient(testClientConfig(emulator));
  try {
    // One queue per size: each canary is found by name on its own queue, among its own jobs.
    await createFixtures(emulator, { jobQueues: SIZES.map(queueFor), codebuildProject: "bench-image" });
    const candidate = await registerBenchCandidate(emulator, backend, specFor(SIZES[0]));
    const results: SizeResult[] = [];
    for (const size of SIZES) {
      const result = await measureSize(emulator, backend, naiveClient, candidate, size);
      progress(`size ${size}: done in ${(result.wallMs / 1000).toFixed(1)} s wall time (informational)`);
      results.push(result);
    }
    printReport(results);
  } finally {
    naiveClient.destroy();
    for (const client of [backend.clients.batch, backend.clients.batchOnce, backend.clients.ecr, backend.clients.codebuild]) client.destroy();
    await emulator.close();
  }
}

export async function measureSize(
  emulator: Emulator,
  backend: Backend,
  naiveClient: BatchClient,
  candidate: JobDefinitionRevision,
  size: number,
): Promise<SizeResult> {
  const started = Date.now();
  const queue = queueFor(size);
  emulator.jobs.runFor(queue, RUNNING_POLLS);

  const batchship = await measureBatchshipCanary(emulator, backend, specFor(size), candidate);
  if (batchship.result.result !== "passed") {
    throw new Error(`the size ${size} canary did not pass (${batchship.result.reason ?? "no reason"}); its call counts would not be a canary's`);
  }
  progress(`size ${size}: batchship canary passed after ${batchship.polls.length} polls (${seconds(started)})`);

  // The naive poller follows the same job for the same number of polls, after the canary ended.
  // Its cost per poll is set by the array size; the children's states change only how the
  // listing splits into pages (checked against the formula in the report).
  const naivePolls = [];
  let seen: NaivePoll | undefined;
  for (let i = 0; i < batchship.polls.length; i++) {
    const from = emulator.calls.length;
    const pollStarted = Date.now();
    seen = await naivePoll(naiveClient, batchship.result.jobId);
    naivePolls.push(batchCallsIn(emulator.calls.slice(from)));
    progress(`size ${size}: naive poll ${i + 1} (${seconds(pollStarted)})`);
  }

  const batchshipPolling = batchship.polls.reduce((sum, poll) => sum + poll.length, 0);
  const naivePolling = naivePolls.reduce((sum, poll) => sum + poll.length, 0);
  return {
    size,
    polls: batchship.polls.length,
    batchshipPerPoll: Math.max(...batchship.polls.map((poll) => poll.length)),
    batchshipWhole: batchship.whole.length,
    batchshipWholeDetail: formatOperations(byOperation(batchship.whole)),
    naivePerPoll: Math.max(...naivePolls.map((poll) => poll.length)),
    // The same submission as batchship's (find by name, SubmitJob, first DescribeJobs), then
    // naive polls instead of batchship's.
    naiveWhole: batchship.whole.length - batchshipPolling + naivePolling,
    naivePollDetail: formatOperations(byOperation(naivePolls[0] ?? [])),
    naiveFormula: naiveCallsPerPoll(size, seen?.counts),
    wallMs: Date.now() - started,
  };
}

function printReport(results: SizeResult[]): void {
  const polls = [...new Set(results.map((r) => r.polls))].join("/");
  const header = ["size", "batchship calls/poll", "batchship calls whole canary", "naive calls/poll", "naive calls whole canary"];
  const rows = results.map((r) => [r.size.toLocaleString("en-US"), r.batchshipPerPoll, r.batchshipWhole, r.naivePerPoll, r.naiveWhole].map(String));
  console.log(`\nAWS Batch calls to follow a canary array job (${polls} polls; children RUNNING for ${RUNNING_POLLS} parent polls, then SUCCEEDED)`);
  console.log(describeEnvironment());
  console.log(table([header, ...rows]));
  console.log("\nWhat the calls were:");
  for (const r of results) {
    console.log(`  ${r.size}: batchship whole canary: ${r.batchshipWholeDetail}; one naive poll: ${r.naivePollDetail}`);
  }
  const mismatched = results.filter((r) => r.naiveFormula !== r.naivePerPoll);
  console.log(
    mismatched.length === 0
      ? "Naive calls/poll match the formula: one ListJobs page per status (7, plus a page per further 1,000 children in a status) + ceil(size / 100) DescribeJobs."
      : `Naive calls/poll differ from the formula at size ${mismatched.map((r) => `${r.size} (formula ${r.naiveFormula})`).join(", ")}.`,
  );
  console.log("Whole canary: the same submission for both (find by name, SubmitJob, one DescribeJobs), then the polls.");
  console.log("Call counts are deterministic; wall time (on stderr) is not, and is not the figure.");
}

/** A Markdown table, so the output can be pasted into docs/benchmarks.md as it is. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  const line = (row: string[]) => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ` ${"-".repeat(w)} ` : ` ${"-".repeat(w - 1)}: `)).join("|")}|`;
  const [header, ...body] = rows;
  return [line(header ?? []), rule, ...body.map(line)].join("\n");
}

function queueFor(size: number): string {
  return `bench-canary-${size}`;
}

function specFor(size: number): PipelineSpec {
  return makeSpec({
    name: "bench",
    jobDefinition: { name: "bench" },
    canary: { jobQueue: queueFor(size), arraySize: size, timeoutMinutes: 30, runnableTimeoutMinutes: 10 },
  });
}

/**
 * The canary needs a candidate revision to submit against: registered once, through the real
 * candidate stage, before any counting starts. Its body does not depend on the canary section,
 * so every size uses it.
 */
async function registerBenchCandidate(emulator: Emulator, backend: Backend, spec: PipelineSpec): Promise<JobDefinitionRevision> {
  const commit = "0".repeat(40);
  const digest = `sha256:${"0".repeat(64)}`;
  const imageUri = `${emulator.accountId}.dkr.ecr.${emulator.region}.amazonaws.com/bench@${digest}`;
  const ctx = createEngineContext(backend);
  const { revision } = await registerCandidate(ctx, { spec, releaseId: releaseIdFor(spec.name, commit), commit, imageUri, digest });
  return revision;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function progress(message: string): void {
  console.error(`[bench] ${message}`);
}

await main();
