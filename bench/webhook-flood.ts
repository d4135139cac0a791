/**
 * What a flood of slow senders costs `batchship serve`: twelve loopback connections that each
 * declare a 23 MiB webhook body, write 22 MiB of it at once and then a byte every 200 ms. Printed
 * per configuration, side by side in one run: the service's peak resident memory over its idle
 * figure, how the flood's connections ended, and the latency of signed pushes sent every 250 ms
 * meanwhile (from this process; the flood runs in one of its own, flood-sender.ts). "default"
 * is the service as shipped (64 MiB body budget); "no budget" raises the budget to 4 GiB, which
 * holds every body as the service did before it had a budget. Both share the 10 s request timeout. Run with `npm run bench:webhook-flood` (builds first); see docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { residentBytes, type FloodConnection } from "../test/support/slow-body-flood.js";

const SECRET = "bench-webhook-secret";
const MIB = 1024 * 1024;
const CONNECTIONS = Number(process.env.BENCH_FLOOD_CONNECTIONS ?? 12);
const BIN = fileURLToPath(new URL("../bin/batchship.js", import.meta.url));
const SENDER = fileURLToPath(new URL("./flood-sender.ts", import.meta.url));
const CONFIGURATIONS: ReadonlyArray<{ name: string; args: string[] }> = [
  { name: "default", args: [] },
  { name: "no budget", args: ["--body-budget-bytes", String(4 * 1024 * MIB)] },
];

interface Row {
  configuration: string;
  idleRssMb: number;
  peakExtraMb: number;
  sentMb: number;
  refused503: number;
  cutOff408: number;
  pushes: number;
  pushesOk: number;
  pushP50Ms: number;
  pushMaxMs: number;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "batchship-flood-"));
  try {
    const rows: Row[] = [];
    for (const [i, configuration] of CONFIGURATIONS.entries()) rows.push(await measure(join(root, String(i)), configuration));
    console.log(`\nwebhook flood: ${CONNECTIONS} connections × 23 MiB declared, 22 MiB sent at once, then 1 byte / 200 ms; pushes every 250 ms`);
    console.table(rows);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function measure(dir: string, configuration: { name: string; args: string[] }): Promise<Row> {
  const pipelines = join(dir, "pipelines");
  await mkdir(pipelines, { recursive: true });
  // Pushes queue a release that fails at its first step (no such repository): nothing leaves the machine.
  await writeFile(join(pipelines, "flooded.yml"), pipelineYaml());
  const { child, port } = await startService(dir, configuration.args);
  try {
    const url = `http://127.0.0.1:${port}`;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idle = await residentBytes(child.pid ?? 0);
    const flood = startFloodSender(port);
    let peak = idle;
    const latencies: number[] = [];
    let pushesOk = 0;
    let floodOpen = true;
    void flood.then(() => (floodOpen = false));
    const sampling = (async () => {
      while (floodOpen) {
        peak = Math.max(peak, await residentBytes(child.pid ?? 0));
        await sleep(100);
      }
    })();
    const pushing = (async () => {
      await sleep(1_000);
      while (floodOpen) {
        const started = performance.now();
        const status = await push(url).catch(() => 0);
        latencies.push(performance.now() - started);
        if (status === 202) pushesOk++;
        await sleep(250);
      }
    })();
    const { connections, bytesSent } = await flood;
    await Promise.all([sampling, pushing]);
    latencies.sort((a, b) => a - b);
    return {
      configuration: configuration.name,
      idleRssMb: Math.round(idle / MIB),
      peakExtraMb: Math.round((peak - idle) / MIB),
      sentMb: Math.round(bytesSent / MIB),
      refused503: connections.filter((c) => c.status === 503).length,
      cutOff408: connections.filter((c) => c.status === 408).length,
      pushes: latencies.length,
      pushesOk,
      pushP50Ms: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
      pushMaxMs: Math.round(latencies[latencies.length - 1] ?? 0),
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
  }
}

async function push(url: string): Promise<number> {
  const body = JSON.stringify({
    ref: "refs/heads/main",
    before: "0".repeat(40),
    after: randomUUID().replaceAll("-", "").padEnd(40, "0"),
    deleted: false,
    repository: { full_name: "acme/flooded", name: "flooded", owner: { login: "acme" }, clone_url: "file:///nonexistent/flooded" },
    head_commit: null,
  });
  const response = await fetch(`${url}/webhook`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
    },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

function startFloodSender(port: number): Promise<{ connections: FloodConnection[]; bytesSent: number }> {
  const sender = spawn(process.execPath, ["--import", "tsx", SENDER, String(port), String(CONNECTIONS)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  sender.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    sender.once("exit", (code) => {
      if (code === 0) resolve(JSON.parse(out) as { connections: FloodConnection[]; bytesSent: number });
      else reject(new Error(`the flood sender exited with ${code}`));
    });
  });
}

function startService(dir: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--host", "127.0.0.1", "--pipelines", join(dir, "pipelines"), "--data-dir", join(dir, "data"), ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", BATCHSHIP_WEBHOOK_SECRET: SECRET, AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: "http://127.0.0.1:9" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let pending = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      pending += chunk;
      const match = /"msg":"service listening"[^\n]*"port":(\d+)/.exec(pending);
      if (match) resolve({ child, port: Number(match[1]) });
      pending = pending.slice(-4096);
    });
    child.once("exit", (code) => reject(new Error(`the service exited with ${code} before listening`)));
  });
}

function pipelineYaml(): string {
  return `apiVersion: batchship/v1
name: flooded
source:
  repository: acme/flooded
  branches: [main]
  url: file:///nonexistent/flooded
image:
  repository: flooded
build:
  backend: codebuild
  project: flooded
jobDefinition:
  name: flooded
  containerProperties:
    command: ["run"]
    vcpus: 1
    memory: 256
canary:
  jobQueue: flooded
  arraySize: 2
promotion:
  mode: auto
`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
