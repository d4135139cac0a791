/**
 * How fast `batchship serve` takes in push deliveries — verified, written durably to SQLite
 * (WAL, synchronous=FULL, group commit) and answered 202 — against the ceiling: a bare
 * @octokit/webhooks createNodeMiddleware server that verifies and stores nothing. All run as
 * child processes on loopback, measured in the same run with the same senders and payloads, in
 * short interleaved rounds so that a change in the machine's load hits every server alike.
 * Run with `npm run bench:webhook-ingest` (builds first); see docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import examples from "@octokit/webhooks-examples";
import { median, percentile, prepareDeliveries, runLoad } from "./ingest-load.js";

const SECRET = "bench-webhook-secret";
const SENDERS: readonly number[] = process.env.BENCH_SENDERS ? process.env.BENCH_SENDERS.split(",").map(Number) : [1, 16, 64];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 1);
/** More than any server answers in one round, so no delivery is ever sent twice to a server. */
const DELIVERIES_PER_ROUND = Number(process.env.BENCH_DELIVERIES_PER_ROUND ?? 30_000);
const REPOSITORY = "acme/bench";
const BIN = fileURLToPath(new URL("../bin/batchship.js", import.meta.url));
const CEILING = fileURLToPath(new URL("./ceiling-server.ts", import.meta.url));

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
}

interface Row {
  senders: number;
  server: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
  errors: number;
  /** This server's throughput over the ceiling's, one figure per round. */
  shares: number[];
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "batchship-bench-"));
  const servers: Server[] = [];
  try {
    const template = (examples as unknown as Array<{ name: string; examples: Array<Record<string, unknown>> }>).find((e) => e.name === "push")?.examples[4];
    if (!template) throw new Error("no push example in @octokit/webhooks-examples");
    servers.push(await startBatchship(root, "full"));
    servers.push(await startBatchship(root, "normal"));
    servers.push(await startChild("ceiling", process.execPath, ["--import", "tsx", CEILING], { BENCH_WEBHOOK_SECRET: SECRET }));
    const rows: Row[] = [];
    for (const senders of SENDERS) rows.push(...(await measure(servers, senders, template)));
    printReport(rows);
  } finally {
    for (const server of servers) server.child.kill("SIGTERM");
    await Promise.all(servers.map((s) => new Promise((resolve) => (s.child.exitCode !== null ? resolve(null) : s.child.once("exit", resolve)))));
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * One warm-up round, then `ROUNDS` rounds; in each round every server gets `ROUND_SECONDS` in
 * turn, the order rotating, so each server is compared with the ceiling measured a second away.
 */
async function measure(servers: Server[], senders: number, template: Record<string, unknown>): Promise<Row[]> {
  const latencies = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  const totals = new Map(servers.map((s) => [s.name, { deliveries: 0, seconds: 0, errors: 0 }]));
  const shares = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    // Fresh for every round; the servers share them, since each batchship has its own store.
    const deliveries = prepareDeliveries(DELIVERIES_PER_ROUND, SECRET, template, REPOSITORY);
    const rates = new Map<string, number>();
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(round + i) % servers.length] as Server;
      const result = await runLoad(server.url, deliveries, senders, ROUND_SECONDS);
      if (round === 0) continue;
      rates.set(server.name, result.deliveries / result.seconds);
      latencies.get(server.name)?.push(...result.latencies);
      const total = totals.get(server.name);
      if (total) {
        total.deliveries += result.deliveries;
        total.seconds += result.seconds;
        total.errors += result.errors;
      }
    }
    const ceiling = rates.get("ceiling");
    for (const [name, rate] of rates) if (ceiling) shares.get(name)?.push(rate / ceiling);
    progress(`${senders} senders, ${round === 0 ? "warm-up" : `round ${round}/${ROUNDS}`}: ${[...rates].map(([name, rate]) => `${name} ${rate.toFixed(0)}/s`).join(", ")}`);
  }
  const rows: Row[] = [];
  for (const server of servers) {
    const sorted = (latencies.get(server.name) ?? []).sort((a, b) => a - b);
    const total = totals.get(server.name) ?? { deliveries: 0, seconds: 1, errors: 0 };
    rows.push({
      senders,
      server: server.name,
      perSecond: total.deliveries / total.seconds,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      peakRssMb: await peakRss(server.child),
      errors: total.errors,
      shares: shares.get(server.name) ?? [],
    });
  }
  return rows;
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

function printReport(rows: Row[]): void {
  const lines = [
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s per server after a warm-up round, push payload from @octokit/webhooks-examples`,
    "",
    "| senders | server             | deliveries/s | p50 to answer | p99 to answer | share of the ceiling (median, range) | peak RSS | errors |",
    "| ------: | ------------------ | -----------: | ------------: | ------------: | ------------------------------------ | -------: | -----: |",
  ];
  const percent = (share: number) => `${(share * 100).toFixed(0)} %`;
  for (const row of rows) {
    const sorted = [...row.shares].sort((a, b) => a - b);
    const share = row.server === "ceiling" ? "" : `${percent(median(sorted))} (${percent(sorted[0] ?? 0)}–${percent(sorted.at(-1) ?? 0)})`;
    lines.push(
      `| ${String(row.senders).padStart(7)} | ${row.server.padEnd(18)} | ${row.perSecond.toFixed(0).padStart(12)} | ${`${row.p50Ms.toFixed(1)} ms`.padStart(13)} | ${`${row.p99Ms.toFixed(1)} ms`.padStart(13)} | ${share.padEnd(36)} | ${`${row.peakRssMb.toFixed(0)} MB`.padStart(8)} | ${String(row.errors).padStart(6)} |`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
