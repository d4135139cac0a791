/**
 * One `batchship serve` process with many pipelines and as many releases in flight, against the
 * emulator over real HTTP: how long a push to every pipeline takes to start every release (and
 * how much git it runs), AWS calls per poll interval while every build is held IN_PROGRESS and
 * then every canary RUNNING, memory (idle with N pipelines, peak with N releases in flight),
 * event-loop lag p99 (the service's own nodejs_eventloop_lag_p99_seconds, beside the machine's
 * load average), and the delay between the canaries' end and their verdicts. Then the same
 * service releases the next commit twice — calm, and under a throttling storm scripted by the
 * emulator — side by side: releases that failed and how long they took. Last, the service is
 * restarted with an events queue (the emulator plays EventBridge into moto's SQS) and releases
 * one more commit: the delay from each canary's end to its verdict, event-driven. Everything is
 * printed at the end as one table.
 *
 * Run with `npm run bench:scale` (builds first). Flags: --pipelines N (default 1000),
 * --poll-interval SECONDS (default 5), --intervals K (poll intervals measured per phase,
 * default 3), --storm-share S (share of every AWS call refused from the push to the last
 * verdict, default 0.3), --storm-rate R (instead of a share: Batch, CodeBuild and ECR each
 * accept R calls a second and refuse the rest, as AWS throttles by rate), --storm-seconds S (the
 * storm ends S seconds after the push; default 0: at the last verdict), --event-run SECONDS (how long each event-driven canary runs, default
 * 20), --skip PHASES (comma-separated: calm, storm, events; no calm run, no storm run),
 * --cpu-prof DIR (the service writes V8 CPU profiles there), --node-flags=FLAGS (Node or V8 flags
 * for the service process, space-separated, to compare settings), --service-nice=N (the service
 * runs under `nice -n N`; below 0, ahead of the emulator on a shared machine, needs root). See
 * docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { availableParallelism, getPriority, loadavg } from "node:os";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { simpleGit } from "simple-git";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { post, pushPayload, signDelivery } from "../test/service/deliveries.js";
import { createServiceDirs, type ServiceDirs } from "../test/service/service-fixture.js";
import { createFixtures, emulatorEnv, startEmulator, testClientConfig, type Emulator } from "../test/emulator/index.js";
import { createTestRepo, type TestRepo } from "../test/support/git-repo.js";
import { describeEnvironment } from "./versions.js";

const { values: flags } = parseArgs({
  options: {
    pipelines: { type: "string", default: "1000" },
    "poll-interval": { type: "string", default: "5" },
    intervals: { type: "string", default: "3" },
    "storm-share": { type: "string", default: "0.3" },
    "event-run": { type: "string", default: "20" },
    "storm-seconds": { type: "string", default: "0" },
    "storm-rate": { type: "string", default: "0" },
    skip: { type: "string", default: "" },
    "cpu-prof": { type: "string" },
    "node-flags": { type: "string", default: "" },
    "service-nice": { type: "string" },
  },
});
const N = Number(flags.pipelines);
const POLL_S = Number(flags["poll-interval"]);
const INTERVALS = Number(flags.intervals);
const STORM_SHARE = Number(flags["storm-share"]);
const EVENT_RUN_S = Number(flags["event-run"]);
/** 0: the storm lasts from the push to the last verdict. */
const STORM_S = Number(flags["storm-seconds"]);
/** 0: the storm refuses a share of calls; above 0, each AWS API the releases use accepts this many calls a second. */
const STORM_RATE = Number(flags["storm-rate"]);
const STORM_SERVICES = ["batch", "codebuild", "ecr"] as const;
const SKIP = new Set(flags.skip.split(",").map((phase) => phase.trim()).filter(Boolean));
const SECRET = "bench-scale-webhook-secret";
const API_TOKEN = "bench-scale-api-token-0123456789";
const QUEUE = "scale";
const REPOSITORY = "acme/scale-app";
const BIN = fileURLToPath(new URL("../bin/batchship.js", import.meta.url));
const name = (i: number) => `s${String(i).padStart(4, "0")}`;

interface Service {
  url: string;
  child: ChildProcess;
  output: () => string;
}

async function main(): Promise<void> {
  if (!(N >= 1 && N <= 2048)) throw new Error("--pipelines must be between 1 and 2048 (the service's concurrency limit)");
  if (!(STORM_RATE === 0 || STORM_RATE >= 1)) throw new Error("--storm-rate must be 0 (a share) or at least 1 call a second");
  const nice = flags["service-nice"];
  if (nice !== undefined && !(/^-?\d+$/.test(nice) && Number(nice) >= -20 && Number(nice) <= 19)) throw new Error("--service-nice must be a whole number from -20 to 19");
  const started = Date.now();
  const [emu, app, dirs] = await Promise.all([startEmulator(), createTestRepo(), createServiceDirs()]);
  let service: Service | undefined;
  try {
    await setUp(emu, app, dirs);
    progress(`set up ${N} pipelines in ${seconds(Date.now() - started)} s`);
    service = await startService(emu, dirs);
    // Idle with N pipelines loaded: the base the releases in flight add to.
    await sleep(2 * POLL_S * 1000);
    const idleRssMb = await rssMb(service.child.pid ?? 0);
    const sampler = startSampler(service);
    const held = await heldRelease(emu, app, service);
    const samples = await sampler.stop();
    const report: Report = { held, samples, idleRssMb };
    // Printed at once as well: on a slow machine the runs after it take long.
    printReport(report);
    // The storm is judged against the calm run of the same service.
    if (!SKIP.has("calm")) report.calm = await timedRelease(emu, app, service, "calm");
    if (!SKIP.has("calm") && !SKIP.has("storm")) report.storm = await timedRelease(emu, app, service, "storm");
    if (!SKIP.has("events")) {
      await stopService(service);
      const queueUrl = await eventsQueue(emu);
      service = await startService(emu, dirs, ["--events-queue-url", queueUrl]);
      report.events = await eventRelease(emu, app, service, queueUrl);
    }
    printReport(report);
  } catch (error) {
    if (service) progress(`service output (last lines):\n${service.output().slice(-4000)}`);
    throw error;
  } finally {
    if (service) await stopService(service);
    await Promise.all([emu.close(), app.remove(), dirs.remove()]);
  }
}

async function stopService(service: Service): Promise<void> {
  if (service.child.exitCode !== null) return;
  const exited = new Promise((resolve) => service.child.once("exit", resolve));
  service.child.kill("SIGTERM");
  await exited;
}

/** The queue an EventBridge rule would feed (infra/batchship-pipeline.yml), made in moto's SQS. */
async function eventsQueue(emu: Emulator): Promise<string> {
  const sqs = new SQSClient(testClientConfig({ endpoint: emu.motoEndpoint, region: emu.region }));
  try {
    return (await sqs.send(new CreateQueueCommand({ QueueName: "scale-events" }))).QueueUrl ?? "";
  } finally {
    sqs.destroy();
  }
}

// --------------------------------------------------------------------------------- set-up

/** One app repository, one pipelines folder with N files, a CodeBuild project per pipeline (so no release lists another's builds). */
async function setUp(emu: Emulator, app: TestRepo, dirs: ServiceDirs): Promise<void> {
  await app.commit({ "Dockerfile": "FROM scratch\n", "README.md": "scale\n" }, "first");
  // The compute environment and the queue once; then the projects, 25 at a time.
  await createFixtures(emu, { jobQueues: [QUEUE], codebuildProject: name(0) });
  for (let i = 0; i < N; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, N - i) }, (_, j) => i + j).map(async (k) => {
        await createFixtures(emu, { jobQueues: [QUEUE], codebuildProject: name(k) });
        await dirs.writePipeline(name(k), pipelineYaml(name(k), `file://${app.dir}`));
      }),
    );
  }
}

function pipelineYaml(pipeline: string, url: string): string {
  return `apiVersion: batchship/v1
name: ${pipeline}
source:
  repository: ${REPOSITORY}
  branches: [main]
  url: ${url}
image:
  repository: ${pipeline}
build:
  backend: codebuild
  project: ${pipeline}
jobDefinition:
  name: ${pipeline}
  containerProperties:
    command: ["run"]
    vcpus: 1
    memory: 256
canary:
  jobQueue: ${QUEUE}
  arraySize: 2
promotion:
  mode: auto
`;
}

async function startService(emu: Emulator, dirs: ServiceDirs, extraArgs: string[] = []): Promise<Service> {
  const env: Record<string, string> = {
    ...emulatorEnv(emu),
    BATCHSHIP_WEBHOOK_SECRET: SECRET,
    BATCHSHIP_API_TOKEN: API_TOKEN,
    BATCHSHIP_ALLOW_SHORT_INTERVALS: "1",
    BATCHSHIP_ALLOW_FILE_SOURCES: "1",
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
  };
  // The SDK's default here, as for a user: the adaptive retry mode batchship picks when unset.
  delete env.AWS_RETRY_MODE;
  // --cpu-prof DIR: the service writes a V8 CPU profile there when it exits (open it in Chrome's DevTools).
  const profile = flags["cpu-prof"] === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", flags["cpu-prof"]];
  const nodeFlags = flags["node-flags"].split(" ").filter(Boolean);
  const args = [...nodeFlags, ...profile, BIN, "serve", "--port", "0", "--host", "127.0.0.1", "--pipelines", dirs.pipelines, "--data-dir", dirs.data];
  args.push("--poll-interval", String(POLL_S), "--concurrency", String(N), "--store-sync", "normal", ...extraArgs);
  // nice runs node in its own place (exec), so the child's pid is the service's.
  const niced = flags["service-nice"] === undefined ? undefined : ["-n", flags["service-nice"]];
  const [command, commandArgs] = niced === undefined ? [process.execPath, args] : ["nice", [...niced, process.execPath, ...args]];
  const child = spawn(command, commandArgs, { env, stdio: ["ignore", "pipe", "pipe"] });
  let raw = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      raw = (raw + chunk).slice(-200_000);
      const match = /"msg":"service listening"[^\n]*"port":(\d+)/.exec(raw);
      if (match) resolve(Number(match[1]));
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (raw = (raw + chunk).slice(-200_000)));
    child.once("exit", () => reject(new Error(`service exited:\n${raw.slice(-3000)}`)));
  });
  // GNU nice runs the command anyway when it may not lower the niceness (not root): a run that
  // meant to put the service ahead must not measure it at 0 and say otherwise.
  if (niced !== undefined && getPriority(child.pid ?? 0) !== Number(flags["service-nice"])) {
    child.kill("SIGKILL");
    throw new Error(`the service runs at niceness ${getPriority(child.pid ?? 0)}, not ${flags["service-nice"]}: a niceness below 0 needs root\n${raw.slice(-1000)}`);
  }
  return { url: `http://127.0.0.1:${port}`, child, output: () => raw };
}

// ------------------------------------------------------------------------------- measuring

interface Samples {
  peakRssMb: number;
  /** The scrape with the most resident memory: what the heap held then, and in which phase. */
  atPeak?: MemorySample;
  /** The service's event-loop lag p99 of each scrape window (its histogram resets at each scrape). */
  lagP99Ms: number[];
  /** The phase of the held run in which the worst window fell. */
  worstLagPhase?: string;
  /** The event-loop delay histogram's samples taken during the held run, by bucket bound (s; not cumulative). */
  delayBuckets: Map<number, number>;
  /** The machine's 1-minute load average at each scrape. */
  load: number[];
}

interface MemorySample {
  phase: string;
  rssMb: number;
  /** Of the RSS, pages mapped from files (the node binary, native modules): not the service's data. */
  rssFileMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
  externalMb: number;
}

/** What the held run is doing, for the memory samples. */
let phase = "idle";

/** Scrapes /metrics every second: the lag histogram of each window, and the process's peak RSS. */
function startSampler(service: Service): { stop(): Promise<Samples> } {
  const lag: number[] = [];
  const load: number[] = [];
  let atPeak: MemorySample | undefined;
  let worstLagPhase: string | undefined;
  let worstLagMs = -1;
  let firstBuckets: Map<number, number> | undefined;
  let lastBuckets: Map<number, number> | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const text = await (await fetch(`${service.url}/metrics`)).text();
        const p99 = /^batchship_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
        if (p99) {
          const ms = Number(p99[1]) * 1000;
          if (ms > worstLagMs) {
            worstLagMs = ms;
            worstLagPhase = phase;
          }
          lag.push(ms);
        }
        const buckets = cumulativeBuckets(text);
        if (buckets.size > 0) {
          firstBuckets ??= buckets;
          lastBuckets = buckets;
        }
        load.push(loadavg()[0] ?? NaN);
        const mb = (metric: string) => Number(new RegExp(`^batchship_${metric} (\\S+)$`, "m").exec(text)?.[1] ?? NaN) / 2 ** 20;
        const rssFileMb = await procStatusMb(service.child.pid ?? 0, "RssFile").catch(() => NaN);
        const memory = { phase, rssMb: mb("process_resident_memory_bytes"), rssFileMb, heapTotalMb: mb("nodejs_heap_size_total_bytes"), heapUsedMb: mb("nodejs_heap_size_used_bytes"), externalMb: mb("nodejs_external_memory_bytes") };
        if (atPeak === undefined || memory.rssMb > atPeak.rssMb) atPeak = memory;
      } catch {
        // a scrape that fails is a missing sample
      }
      await sleep(1000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const delayBuckets = bucketCounts(firstBuckets ?? new Map(), lastBuckets ?? new Map());
      return { peakRssMb: await peakRssMb(service.child.pid ?? 0), ...(atPeak === undefined ? {} : { atPeak }), lagP99Ms: lag, ...(worstLagPhase === undefined ? {} : { worstLagPhase }), delayBuckets, load };
    },
  };
}

/** The service's batchship_event_loop_delay_seconds buckets in one scrape: bound (s, Infinity for +Inf) → cumulative count. */
function cumulativeBuckets(text: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const match of text.matchAll(/^batchship_event_loop_delay_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) {
    buckets.set(match[1] === "+Inf" ? Infinity : Number(match[1]), Number(match[2]));
  }
  return buckets;
}

/** The samples taken between two scrapes, per bucket (not cumulative), bounds ascending. */
function bucketCounts(first: Map<number, number>, last: Map<number, number>): Map<number, number> {
  const counts = new Map<number, number>();
  let below = 0;
  for (const bound of [...last.keys()].sort((a, b) => a - b)) {
    const cumulative = (last.get(bound) ?? 0) - (first.get(bound) ?? 0);
    counts.set(bound, cumulative - below);
    below = cumulative;
  }
  return counts;
}

/**
 * A quantile of bucketed samples as Prometheus' histogram_quantile estimates it: linear within
 * the bucket it falls in (the highest finite bound when it falls in +Inf).
 */
function bucketQuantile(q: number, counts: Map<number, number>): number {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = q * total;
  let below = 0;
  let lower = 0;
  for (const [bound, count] of counts) {
    if (below + count >= rank && count > 0) return bound === Infinity ? lower : lower + ((bound - lower) * (rank - below)) / count;
    below += count;
    lower = bound;
  }
  return lower;
}

/** VmHWM: the most resident memory the process ever had. */
async function peakRssMb(pid: number): Promise<number> {
  return procStatusMb(pid, "VmHWM");
}

async function rssMb(pid: number): Promise<number> {
  return procStatusMb(pid, "VmRSS");
}

async function procStatusMb(pid: number, field: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

interface Held {
  buildCallsPerInterval: number;
  buildCallsByOperation: Record<string, number>;
  canaryCallsPerInterval: number;
  canaryCallsByOperation: Record<string, number>;
  verdictDelayMs: number[];
  failed: number;
  pushToAllBuildsMs: number;
  /** Git runs against the app repository from the push until every build ran, by call. */
  gitCalls: Record<string, number>;
}

/**
 * A push to every pipeline with builds held IN_PROGRESS: once all N builds run, the CodeBuild
 * calls of K poll intervals; released, the canaries are held RUNNING: once all N run, the Batch
 * calls of K intervals; released, the delay from then to each release's verdict.
 */
async function heldRelease(emu: Emulator, app: TestRepo, service: Service): Promise<Held> {
  const openBuilds = emu.builds.hold();
  const openCanaries = emu.jobs.holdRunning(QUEUE);
  const commit = await app.commit({ "README.md": `held ${Date.now()}\n` }, "held");
  const gitBefore = await gitCalls(service);
  const pushed = Date.now();
  phase = "starting releases";
  await push(service, commit);
  await until(`${N} builds started`, () => forwarded(emu, "StartBuild", 0) >= N, 30 * 60_000, 500, () => `${forwarded(emu, "StartBuild", 0)} of ${N} builds started`);
  const pushToAllBuildsMs = Date.now() - pushed;
  const gitAfter = await gitCalls(service);
  progress(`all ${N} builds started ${seconds(pushToAllBuildsMs)} s after the push`);
  phase = "builds held";
  const build = await callsOver(emu, "codebuild");

  const beforeSubmit = emu.calls.length;
  phase = "submitting canaries";
  openBuilds();
  await until(`${N} canaries submitted`, () => forwarded(emu, "SubmitJob", beforeSubmit) >= N, 30 * 60_000, 500, () => `${forwarded(emu, "SubmitJob", beforeSubmit)} of ${N} canaries submitted`);
  // The followers' first looks are over after one interval.
  await sleep(POLL_S * 1000);
  phase = "canaries held";
  const canary = await callsOver(emu, "batch");

  const endedBefore = await endedReleases(service);
  const ended = Date.now();
  phase = "verdicts and promotions";
  openCanaries();
  const releases = await allDone(service, commit, endedBefore);
  const verdictDelayMs = releases
    .map((r) => r.stages?.find((s) => s.stage === "canary")?.finishedAt)
    .filter((at): at is string => typeof at === "string")
    .map((at) => Date.parse(at) - ended);
  return {
    buildCallsPerInterval: build.total / INTERVALS,
    buildCallsByOperation: build.byOperation,
    canaryCallsPerInterval: canary.total / INTERVALS,
    canaryCallsByOperation: canary.byOperation,
    verdictDelayMs,
    failed: releases.filter((r) => r.status !== "promoted").length,
    pushToAllBuildsMs,
    gitCalls: Object.fromEntries(Object.entries(gitAfter).map(([call, n]) => [call, n - (gitBefore[call] ?? 0)])),
  };
}

interface Timed {
  label: string;
  durationMs: number;
  failed: number;
  refused: number;
  promoted: number;
}

/** The next commit to every pipeline, released without holds (builds take 2 polls, canaries 2); under a storm if `label` says so. */
async function timedRelease(emu: Emulator, app: TestRepo, service: Service, label: "calm" | "storm"): Promise<Timed> {
  emu.builds.slow(2);
  emu.jobs.clear();
  emu.jobs.runFor(QUEUE, 2);
  const mark = emu.calls.length;
  // Unless --storm-seconds ends it, the storm lasts the whole release: from the push to the last verdict.
  if (label === "storm") {
    const forMs = STORM_S > 0 ? STORM_S * 1000 : 24 * 3_600_000;
    if (STORM_RATE > 0) emu.faults.rateLimit(STORM_SERVICES, { perSecond: STORM_RATE, forMs });
    else emu.faults.storm("*", { share: STORM_SHARE, forMs });
  }
  const commit = await app.commit({ "README.md": `${label} ${Date.now()}\n` }, label);
  const endedBefore = await endedReleases(service);
  const pushed = Date.now();
  await push(service, commit);
  const releases = await allDone(service, commit, endedBefore);
  emu.faults.clear();
  const timed = {
    label,
    durationMs: Date.now() - pushed,
    failed: releases.filter((r) => r.status === "failed").length,
    promoted: releases.filter((r) => r.status === "promoted").length,
    refused: emu.calls.slice(mark).filter((c) => c.faulted).length,
  };
  progress(`${label} run: ${timed.promoted} promoted, ${timed.failed} failed in ${seconds(timed.durationMs)} s`);
  return timed;
}

interface Evented {
  verdictDelayMs: number[];
  failed: number;
  builds: number;
  describeJobs: number;
  durationMs: number;
}

/**
 * The service restarted with an events queue, and a commit that changes nothing the image is
 * built from (so every release reuses the image and goes straight to its canary): each canary
 * runs --event-run seconds from its submission, and its end reaches the queue as EventBridge
 * would send it. The delay is each release's verdict minus its own canary's end.
 */
async function eventRelease(emu: Emulator, app: TestRepo, service: Service, queueUrl: string): Promise<Evented> {
  emu.builds.clear();
  emu.jobs.clear();
  emu.jobs.runForMs(QUEUE, EVENT_RUN_S * 1000);
  emu.events.deliverTo(queueUrl);
  const git = simpleGit(app.dir);
  await git.commit("events", ["--allow-empty"]);
  const commit = (await git.revparse(["HEAD"])).trim();
  const mark = emu.calls.length;
  const endedBefore = await endedReleases(service);
  const pushed = Date.now();
  await push(service, commit);
  const releases = await allDone(service, commit, endedBefore);
  const durationMs = Date.now() - pushed;
  emu.events.clear();
  const verdictDelayMs: number[] = [];
  for (const release of releases) {
    const finishedAt = release.stages?.find((s) => s.stage === "canary")?.finishedAt;
    const end = release.canary?.jobId === undefined ? undefined : emu.jobs.endOf(release.canary.jobId);
    if (typeof finishedAt === "string" && end !== undefined) verdictDelayMs.push(Date.parse(finishedAt) - end);
  }
  const calls = emu.calls.slice(mark);
  return {
    verdictDelayMs,
    failed: releases.filter((r) => r.status !== "promoted").length,
    builds: calls.filter((c) => c.operation === "StartBuild" && c.forwarded).length,
    describeJobs: calls.filter((c) => c.operation === "DescribeJobs" && c.forwarded).length,
    durationMs,
  };
}

async function callsOver(emu: Emulator, service: "batch" | "codebuild"): Promise<{ total: number; byOperation: Record<string, number> }> {
  // The service polls on a beat, at the multiples of the interval on the clock (poll-beat.ts):
  // counting from midway between two beats, K intervals hold K beats exactly.
  const interval = POLL_S * 1000;
  const intoBeat = Date.now() % interval;
  await sleep((intoBeat < interval / 2 ? interval / 2 : interval * 1.5) - intoBeat);
  const from = emu.calls.length;
  await sleep(INTERVALS * POLL_S * 1000);
  const byOperation: Record<string, number> = {};
  const idsPerCall: number[] = [];
  for (const call of emu.calls.slice(from)) {
    if (call.service !== service) continue;
    byOperation[call.operation] = (byOperation[call.operation] ?? 0) + 1;
    const ids = call.input?.ids ?? call.input?.jobs;
    if (Array.isArray(ids)) idsPerCall.push(ids.length);
  }
  progress(`${service} calls over ${INTERVALS} intervals, ids per call: ${idsPerCall.join(" ")}`);
  return { total: Object.values(byOperation).reduce((a, b) => a + b, 0), byOperation };
}

function forwarded(emu: Emulator, operation: string, from: number): number {
  let count = 0;
  for (let i = from; i < emu.calls.length; i++) {
    const call = emu.calls[i];
    if (call?.operation === operation && call.forwarded) count++;
  }
  return count;
}

async function push(service: Service, commit: string): Promise<void> {
  const answer = await post(service.url, await signDelivery(SECRET, "push", pushPayload(REPOSITORY, commit)));
  if (answer.status !== 202) throw new Error(`push refused: HTTP ${answer.status} ${await answer.text()}`);
}

interface ReleaseSummary {
  id: string;
  status: string;
  canary?: { jobId?: string } | null;
  stages?: Array<{ stage: string; finishedAt: string | null }>;
}

/** Waits for the service to count N more ended releases (its batchship_releases_total), then reads each of this commit's. */
async function allDone(service: Service, commit: string, endedBefore: number): Promise<ReleaseSummary[]> {
  await until(`${N} releases of ${commit.slice(0, 12)} to end`, async () => (await endedReleases(service)) - endedBefore >= N, 60 * 60_000, 1_000, async () => `${(await endedReleases(service)) - endedBefore} of ${N} releases ended`);
  // The counter is only a cheap first sign: each of this commit's releases must have ended.
  const ids = Array.from({ length: N }, (_, i) => `${name(i)}-${commit.slice(0, 12)}`);
  for (;;) {
    const found: ReleaseSummary[] = [];
    for (let i = 0; i < ids.length; i += 50) found.push(...(await Promise.all(ids.slice(i, i + 50).map((id) => api(service, `/api/releases/${id}`)))));
    if (found.every((r) => !["queued", "running"].includes(r.status))) return found;
    await sleep(1_000);
  }
}

async function endedReleases(service: Service): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^batchship_releases_total\{[^}]*\} (\S+)$/gm)) total += Number(match[1]);
  return total;
}

async function gitCalls(service: Service): Promise<Record<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const calls: Record<string, number> = {};
  for (const match of text.matchAll(/^batchship_git_source_calls_total\{call="([^"]+)"\} (\S+)$/gm)) calls[match[1] ?? ""] = Number(match[2]);
  return calls;
}

async function api(service: Service, path: string, attempt = 1): Promise<any> {
  if (attempt < 5) {
    try {
      return await api(service, path, 5);
    } catch {
      await sleep(1000);
      return api(service, path, attempt + 1);
    }
  }
  const response = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

// ------------------------------------------------------------------------------- reporting

interface Report {
  held: Held;
  samples: Samples;
  idleRssMb: number;
  calm?: Timed;
  storm?: Timed;
  events?: Evented;
}

function printReport({ held, samples, idleRssMb, calm, storm, events }: Report): void {
  const lag = [...samples.lagP99Ms].sort((a, b) => a - b);
  const load = [...samples.load].sort((a, b) => a - b);
  const delays = [...held.verdictDelayMs].sort((a, b) => a - b);
  const met = (ok: boolean) => (ok ? "met" : "missed");
  const lagWorst = lag.at(-1) ?? NaN;
  const lagMedian = pick(lag, 0.5);
  const lines = [
    `## Service scale: ${N} pipelines, ${N} releases in flight, poll interval ${POLL_S} s`,
    describeEnvironment() + (flags["service-nice"] === undefined ? "" : `; the service under nice -n ${flags["service-nice"]}`),
    "",
    "| figure | measured | target |",
    "| --- | --- | --- |",
    `| push to all ${N} builds started | ${seconds(held.pushToAllBuildsMs)} s (git: ${ops(held.gitCalls, 1) || "none"}) | |`,
    `| Batch calls per poll interval (canaries held RUNNING) | ${fmt(held.canaryCallsPerInterval)} (${ops(held.canaryCallsByOperation, INTERVALS) || "none"}) | ≤ 10: ${met(held.canaryCallsPerInterval <= 10)} |`,
    `| CodeBuild calls per poll interval (builds held IN_PROGRESS) | ${fmt(held.buildCallsPerInterval)} (${ops(held.buildCallsByOperation, INTERVALS) || "none"}) | ≤ 10: ${met(held.buildCallsPerInterval <= 10)} |`,
    `| RSS: idle with ${N} pipelines / peak with ${N} releases in flight | ${fmt(idleRssMb)} MB / ${fmt(samples.peakRssMb)} MB (${fmt(((samples.peakRssMb - idleRssMb) * 1024) / N)} kB per release) | peak ≤ 300 MB: ${met(samples.peakRssMb <= 300)} |`,
    `| RSS at its peak: phase / V8 heap total / heap used / external / mapped from files (scraped each second) | ${samples.atPeak === undefined ? "n/a" : `${samples.atPeak.phase} / ${fmt(samples.atPeak.heapTotalMb)} / ${fmt(samples.atPeak.heapUsedMb)} / ${fmt(samples.atPeak.externalMb)} / ${fmt(samples.atPeak.rssFileMb)} MB (RSS ${fmt(samples.atPeak.rssMb)} MB)`} | |`,
    delayRow(samples.delayBuckets),
    `| event-loop lag p99: worst 1 s window / median window (load average: median / max) | ${fmt(lagWorst)} ms / ${fmt(lagMedian)} ms (load ${fmt(pick(load, 0.5))} / ${fmt(load.at(-1) ?? NaN)} on ${cores()} cores; worst while ${samples.worstLagPhase ?? "n/a"}) | ≤ 50 ms: worst ${met(lagWorst <= 50)}, median ${met(lagMedian <= 50)} |`,
    `| verdict delay after the canaries end, polled: p50 / p99 / max | ${seconds(pick(delays, 0.5))} / ${seconds(pick(delays, 0.99))} / ${seconds(delays.at(-1) ?? NaN)} s (${delays.length} verdicts) | |`,
  ];
  if (events !== undefined) {
    const evented = [...events.verdictDelayMs].sort((a, b) => a - b);
    lines.push(
      `| verdict delay after each canary's end, event-driven (5 min safety net): p50 / p99 / max | ${seconds(pick(evented, 0.5))} / ${seconds(pick(evented, 0.99))} / ${seconds(evented.at(-1) ?? NaN)} s (${evented.length} verdicts; ${fmt(events.describeJobs / N)} DescribeJobs per release, ${events.builds} builds) | |`,
    );
  } else {
    lines.push("| verdict delay, event-driven | (not run) | |");
  }
  lines.push(`| releases not promoted (held run${events ? ", event-driven run" : ""}) | ${held.failed}${events ? `, ${events.failed}` : ""} | 0 |`);
  for (const run of [calm, storm]) {
    if (run === undefined) continue;
    const slower = run === storm && calm !== undefined ? `, ${fmt(((run.durationMs - calm.durationMs) / calm.durationMs) * 100)} % longer than calm` : "";
    const target = run === storm ? ` | failed = 0: ${met(run.failed === 0)} |` : " | |";
    const lasting = STORM_S > 0 ? `for the first ${STORM_S} s` : "until the last verdict";
    const refusing = STORM_RATE > 0 ? `Batch, CodeBuild and ECR each accepting ${STORM_RATE} calls a second, the rest refused as throttled` : `${Math.round(STORM_SHARE * 100)} % of every AWS call refused as throttled`;
    const what = run === storm ? `storm (${refusing}, ${lasting})` : "calm";
    lines.push(`| next commit, ${what}: promoted / failed / calls refused / push to all verdicts | ${run.promoted} / ${run.failed} / ${run.refused} / ${seconds(run.durationMs)} s${slower}${target}`);
  }
  console.log(`${lines.join("\n")}\n`);
}

/** The held run's event-loop delay from the service's histogram: p99 ≤ 50 ms exactly when at most 1 % of the samples are above the 0.05 s bound. */
function delayRow(counts: Map<number, number>): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const over = [...counts].filter(([bound]) => bound > 0.05).reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return "| event-loop delay over the whole held run | n/a (batchship_event_loop_delay_seconds not scraped) | p99 ≤ 50 ms |";
  const share = over / total;
  const p99Ms = bucketQuantile(0.99, counts) * 1000;
  const met = share <= 0.01 ? "met" : "missed";
  return `| event-loop delay over the whole held run (${total} samples, batchship_event_loop_delay_seconds): p99 / samples above 50 ms | ${fmt(p99Ms)} ms (within its bucket, as histogram_quantile) / ${fmt(share * 100)} % (${over}) | p99 ≤ 50 ms: ${met} |`;
}

function ops(byOperation: Record<string, number>, per: number): string {
  return Object.entries(byOperation).map(([op, n]) => `${op} ${fmt(n / per)}`).join(", ");
}

function cores(): number {
  return availableParallelism();
}

function pick(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function fmt(n: number): string {
  return Number.isFinite(n) ? (Math.round(n * 10) / 10).toString() : "n/a";
}

function seconds(ms: number): string {
  return fmt(ms / 1000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 500, status?: () => string | Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let toldAt = Date.now();
  // A check that fails (a connection reset by a busy service) is asked again.
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (status !== undefined && Date.now() - toldAt >= 15_000) {
      toldAt = Date.now();
      progress(await Promise.resolve().then(status).catch(() => `waiting for ${what}`));
    }
    await sleep(everyMs);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
