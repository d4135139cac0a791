/**
 * One `batchship serve` process with many pipelines and as many releases in flight, against the
 * emulator over real HTTP: AWS calls per poll interval while every build is held IN_PROGRESS and
 * then every canary RUNNING, peak RSS, event-loop lag p99 (the service's own
 * nodejs_eventloop_lag_p99_seconds), and the delay between the canaries' end and their verdicts.
 * Then the same service releases the next commit twice — calm, and under a throttling storm
 * scripted by the emulator — and both are printed side by side: releases that failed and how long
 * they took.
 *
 * Run with `npm run bench:scale` (builds first). Flags: --pipelines N (default 1000),
 * --poll-interval SECONDS (default 5), --intervals K (poll intervals measured per phase,
 * default 3), --storm-share S (share of every AWS call refused from the push to the last
 * verdict, default 0.3). See docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { post, pushPayload, signDelivery } from "../test/service/deliveries.js";
import { createServiceDirs, type ServiceDirs } from "../test/service/service-fixture.js";
import { createFixtures, emulatorEnv, startEmulator, type Emulator } from "../test/emulator/index.js";
import { createTestRepo, type TestRepo } from "../test/support/git-repo.js";
import { describeEnvironment } from "./versions.js";

const { values: flags } = parseArgs({
  options: {
    pipelines: { type: "string", default: "1000" },
    "poll-interval": { type: "string", default: "5" },
    intervals: { type: "string", default: "3" },
    "storm-share": { type: "string", default: "0.3" },
  },
});
const N = Number(flags.pipelines);
const POLL_S = Number(flags["poll-interval"]);
const INTERVALS = Number(flags.intervals);
const STORM_SHARE = Number(flags["storm-share"]);
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
  const started = Date.now();
  const [emu, app, dirs] = await Promise.all([startEmulator(), createTestRepo(), createServiceDirs()]);
  let service: Service | undefined;
  try {
    await setUp(emu, app, dirs);
    console.error(`set up ${N} pipelines in ${seconds(Date.now() - started)} s`);
    service = await startService(emu, dirs);
    const sampler = startSampler(service);
    const held = await heldRelease(emu, app, service);
    // Printed at once: on a slow machine the runs after it take long.
    printHeld(held, await sampler.stop());
    const calm = await timedRelease(emu, app, service, "calm");
    const storm = await timedRelease(emu, app, service, "storm");
    printTimed(calm, storm);
  } finally {
    service?.child.kill("SIGTERM");
    if (service && service.child.exitCode === null) await new Promise((resolve) => service?.child.once("exit", resolve));
    await Promise.all([emu.close(), app.remove(), dirs.remove()]);
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

async function startService(emu: Emulator, dirs: ServiceDirs): Promise<Service> {
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
  const args = [BIN, "serve", "--port", "0", "--host", "127.0.0.1", "--pipelines", dirs.pipelines, "--data-dir", dirs.data];
  args.push("--poll-interval", String(POLL_S), "--concurrency", String(N), "--store-sync", "normal");
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
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
  return { url: `http://127.0.0.1:${port}`, child, output: () => raw };
}

// ------------------------------------------------------------------------------- measuring

interface Samples {
  peakRssMb: number;
  /** The service's event-loop lag p99 of each scrape window (its histogram resets at each scrape). */
  lagP99Ms: number[];
}

/** Scrapes /metrics every second: the lag histogram of each window, and the process's peak RSS. */
function startSampler(service: Service): { stop(): Promise<Samples> } {
  const lag: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const text = await (await fetch(`${service.url}/metrics`)).text();
        const p99 = /^batchship_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
        if (p99) lag.push(Number(p99[1]) * 1000);
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
      return { peakRssMb: await peakRssMb(service.child.pid ?? 0), lagP99Ms: lag };
    },
  };
}

/** VmHWM: the most resident memory the process ever had. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

interface Held {
  buildCallsPerInterval: number;
  buildCallsByOperation: Record<string, number>;
  canaryCallsPerInterval: number;
  canaryCallsByOperation: Record<string, number>;
  verdictDelayMs: number[];
  failed: number;
  setupToAllBuildsMs: number;
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
  const pushed = Date.now();
  await push(service, commit);
  await until(`${N} builds started`, () => forwarded(emu, "StartBuild", 0) >= N, 30 * 60_000);
  const setupToAllBuildsMs = Date.now() - pushed;
  const build = await callsOver(emu, "codebuild");

  const beforeSubmit = emu.calls.length;
  openBuilds();
  await until(`${N} canaries submitted`, () => forwarded(emu, "SubmitJob", beforeSubmit) >= N, 30 * 60_000);
  // The followers' first looks are over after one interval.
  await sleep(POLL_S * 1000);
  const canary = await callsOver(emu, "batch");

  const endedBefore = await endedReleases(service);
  const ended = Date.now();
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
    setupToAllBuildsMs,
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
  // The storm lasts the whole release: from the push to the last verdict.
  if (label === "storm") emu.faults.storm("*", { share: STORM_SHARE, forMs: 24 * 3_600_000 });
  const commit = await app.commit({ "README.md": `${label} ${Date.now()}\n` }, label);
  const endedBefore = await endedReleases(service);
  const pushed = Date.now();
  await push(service, commit);
  const releases = await allDone(service, commit, endedBefore);
  emu.faults.clear();
  return {
    label,
    durationMs: Date.now() - pushed,
    failed: releases.filter((r) => r.status === "failed").length,
    promoted: releases.filter((r) => r.status === "promoted").length,
    refused: emu.calls.slice(mark).filter((c) => c.faulted).length,
  };
}

async function callsOver(emu: Emulator, service: "batch" | "codebuild"): Promise<{ total: number; byOperation: Record<string, number> }> {
  const from = emu.calls.length;
  await sleep(INTERVALS * POLL_S * 1000);
  const byOperation: Record<string, number> = {};
  for (const call of emu.calls.slice(from)) if (call.service === service) byOperation[call.operation] = (byOperation[call.operation] ?? 0) + 1;
  return { total: Object.values(byOperation).reduce((a, b) => a + b, 0), byOperation };
}

function forwarded(emu: Emulator, operation: string, from: number): number {
  return emu.calls.slice(from).filter((c) => c.operation === operation && c.forwarded).length;
}

async function push(service: Service, commit: string): Promise<void> {
  const answer = await post(service.url, await signDelivery(SECRET, "push", pushPayload(REPOSITORY, commit)));
  if (answer.status !== 202) throw new Error(`push refused: HTTP ${answer.status} ${await answer.text()}`);
}

interface ReleaseSummary {
  id: string;
  status: string;
  stages?: Array<{ stage: string; finishedAt: string | null }>;
}

/** Waits for the service to count N more ended releases (its batchship_releases_total), then reads each of this commit's. */
async function allDone(service: Service, commit: string, endedBefore: number): Promise<ReleaseSummary[]> {
  await until(`${N} releases of ${commit.slice(0, 12)} to end`, async () => (await endedReleases(service)) - endedBefore >= N, 60 * 60_000, 1_000);
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

function printHeld(held: Held, samples: Samples): void {
  const lag = [...samples.lagP99Ms].sort((a, b) => a - b);
  const delays = [...held.verdictDelayMs].sort((a, b) => a - b);
  console.log(`# batchship serve at scale: ${N} pipelines, ${N} releases in flight, poll interval ${POLL_S} s`);
  console.log(describeEnvironment());
  console.log("");
  console.log("| figure | measured | target |");
  console.log("| --- | --- | --- |");
  console.log(`| Batch calls per poll interval (canaries held RUNNING) | ${fmt(held.canaryCallsPerInterval)} (${ops(held.canaryCallsByOperation)}) | ≤ 10 |`);
  console.log(`| CodeBuild calls per poll interval (builds held IN_PROGRESS) | ${fmt(held.buildCallsPerInterval)} (${ops(held.buildCallsByOperation)}) | ≤ 10 |`);
  console.log(`| peak RSS of the service | ${fmt(samples.peakRssMb)} MB | ≤ 300 MB |`);
  console.log(`| event-loop lag p99, worst 1 s window / median window | ${fmt(lag.at(-1) ?? NaN)} ms / ${fmt(pick(lag, 0.5))} ms | ≤ 50 ms |`);
  console.log(`| verdict delay after the canaries end, polled: p50 / p99 / max | ${seconds(pick(delays, 0.5))} / ${seconds(pick(delays, 0.99))} / ${seconds(delays.at(-1) ?? NaN)} s (${delays.length} verdicts) | |`);
  console.log(`| verdict delay, event-driven | (not measured yet) | |`);
  console.log(`| releases not promoted (held run) | ${held.failed} | 0 |`);
  console.log(`| push to all ${N} builds running | ${seconds(held.setupToAllBuildsMs)} s | |`);
  console.log("");
}

function printTimed(calm: Timed, storm: Timed): void {
  console.log(`Next commit, every pipeline, side by side (storm: ${Math.round(STORM_SHARE * 100)} % of every AWS call refused as the service throttles, from the push to the last verdict):`);
  console.log("");
  console.log("| run | promoted | failed | calls refused | push to all verdicts |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const run of [calm, storm]) console.log(`| ${run.label} | ${run.promoted} | ${run.failed} | ${run.refused} | ${seconds(run.durationMs)} s |`);
  console.log(`\nThe storm made the release ${fmt(((storm.durationMs - calm.durationMs) / calm.durationMs) * 100)} % longer; target: no failed release.`);
}

function ops(byOperation: Record<string, number>): string {
  return Object.entries(byOperation).map(([op, n]) => `${op} ${fmt(n / INTERVALS)}`).join(", ") || "none";
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

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A check that fails (a connection reset by a busy service) is asked again.
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
