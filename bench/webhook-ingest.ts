/**
 * How fast `batchship serve` takes in push deliveries — verified, written durably to SQLite
 * (WAL, synchronous=FULL, group commit) and answered 202 — against the ceiling: a bare
 * @octokit/webhooks createNodeMiddleware server that verifies and stores nothing. Both run as
 * child processes on loopback, measured in the same run with the same senders and payloads.
 * Run with `npm run bench:webhook-ingest` (builds first); see docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import examples from "@octokit/webhooks-examples";
import { prepareDeliveries, runLoad, type LoadResult } from "./ingest-load.js";

const SECRET = "bench-webhook-secret";
const SENDERS: readonly number[] = process.env.BENCH_SENDERS ? process.env.BENCH_SENDERS.split(",").map(Number) : [1, 16, 64];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 1;
const REPOSITORY = "acme/bench";
const BIN = fileURLToPath(new URL("../bin/batchship.js", import.meta.url));
const CEILING = fileURLToPath(new URL("./ceiling-server.ts", import.meta.url));

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "batchship-bench-"));
  const servers: Server[] = [];
  try {
    const template = (examples as unknown as Array<{ name: string; examples: Array<Record<string, any>> }>).find((e) => e.name === "push")?.examples[4];
    if (!template) throw new Error("no push example in @octokit/webhooks-examples");
    const deliveries = await prepareDeliveries(120_000, SECRET, template, REPOSITORY);
    progress(`prepared ${deliveries.length} signed deliveries of ${deliveries[0]?.body.length ?? 0} bytes`);

    servers.push(await startBatchship(root, "full"));
    servers.push(await startBatchship(root, "normal"));
    servers.push(await startChild("ceiling", process.execPath, ["--import", "tsx", CEILING], { BENCH_WEBHOOK_SECRET: SECRET }));
    const rows: Array<{ server: string; result: LoadResult; peakRssMb: number }> = [];
    let offset = 0;
    for (const senders of SENDERS) {
      for (const server of servers) {
        // Each run gets deliveries no server has seen: batchship must store every one.
        const slice = deliveries.slice(offset, offset + 20_000);
        offset = (offset + 20_000) % deliveries.length;
        await runLoad(server.url, slice, senders, WARMUP_SECONDS);
        const result = await runLoad(server.url, slice.slice(10_000).concat(slice.slice(0, 10_000)), senders, SECONDS);
        const peakRssMb = await peakRss(server.child);
        rows.push({ server: server.name, result, peakRssMb });
        progress(`${server.name} ${senders} senders: ${result.perSecond.toFixed(0)}/s p99 ${result.p99Ms.toFixed(1)} ms errors ${result.errors}`);
      }
    }
    printReport(rows);
  } finally {
    for (const server of servers) server.child.kill("SIGTERM");
    await Promise.all(servers.map((s) => new Promise((resolve) => (s.child.exitCode !== null ? resolve(null) : s.child.once("exit", resolve)))));
    await rm(root, { recursive: true, force: true });
  }
}

async function startBatchship(root: string, sync: "full" | "normal"): Promise<Server> {
  const pipelines = join(root, "pipelines");
  await mkdir(pipelines, { recursive: true });
  // Releases queue but never reach AWS: the clone URL does not exist and retries wait a minute.
  await writeFile(
    join(pipelines, "bench.yml"),
    `apiVersion: batchship/v1
name: bench
source: { repository: ${REPOSITORY}, branches: [main], url: "file://${join(root, "no-such-repo")}" }
image: { repository: bench }
build: { backend: codebuild, project: bench }
jobDefinition: { name: bench, containerProperties: { command: ["run"], vcpus: 1, memory: 256 } }
canary: { jobQueue: bench }
`,
  );
  return startChild(`batchship (${sync})`, process.execPath, [...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), BIN, "serve", "--port", "0", "--host", "127.0.0.1", "--pipelines", pipelines, "--data-dir", join(root, `data-${sync}`), "--store-sync", sync, "--poll-interval", "60", "--concurrency", "1"], {
    BATCHSHIP_WEBHOOK_SECRET: SECRET,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  });
}

function startChild(name: string, command: string, args: string[], env: Record<string, string>): Promise<Server> {
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      const match = /"msg":"service listening".*?"port":(\d+)/.exec(buffer);
      if (match) {
        child.stdout?.removeAllListeners("data");
        child.stdout?.resume();
        resolve({ name, url: `http://127.0.0.1:${match[1]}`, child });
      }
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before listening`)));
  });
}

/** Peak resident set size (VmHWM) from /proc: Linux only, which is where the bench runs. */
async function peakRss(child: ChildProcess): Promise<number> {
  try {
    const status = await readFile(`/proc/${child.pid}/status`, "utf8");
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

function printReport(rows: Array<{ server: string; result: LoadResult; peakRssMb: number }>): void {
  const lines = [
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up, push payload from @octokit/webhooks-examples`,
    "",
    "| senders | server             | deliveries/s | p50 to answer | p99 to answer | peak RSS | errors |",
    "| ------: | ------------------ | -----------: | ------------: | ------------: | -------: | -----: |",
  ];
  for (const { server, result, peakRssMb } of rows) {
    lines.push(
      `| ${String(result.senders).padStart(7)} | ${server.padEnd(18)} | ${result.perSecond.toFixed(0).padStart(12)} | ${`${result.p50Ms.toFixed(1)} ms`.padStart(13)} | ${`${result.p99Ms.toFixed(1)} ms`.padStart(13)} | ${`${peakRssMb.toFixed(0)} MB`.padStart(8)} | ${String(result.errors).padStart(6)} |`,
    );
  }
  for (const senders of SENDERS) {
    const ceiling = rows.find((r) => r.server === "ceiling" && r.result.senders === senders)?.result;
    for (const ours of rows.filter((r) => r.server.startsWith("batchship") && r.result.senders === senders)) {
      if (ceiling) lines.push("", `${senders} senders: ${ours.server} at ${((ours.result.perSecond / ceiling.perSecond) * 100).toFixed(0)}% of the ceiling's throughput`);
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
