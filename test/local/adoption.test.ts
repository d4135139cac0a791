import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createJobDefinitionStore } from "../../src/local/job-definition-store.js";
import { createJobStore, type JobStore, type Owner } from "../../src/local/job-store.js";
import { createLocalBackend, readLocalOptions } from "../../src/local/index.js";
import { killOrphanedGroup, processStart, runCommand, type ProcessGroup } from "../../src/local/run-command.js";
import { openStateStore, type StateDb } from "../../src/local/state-store.js";
import type { JobState } from "../../src/release/ports.js";
import { createProcessTool } from "./process-tool.js";

const clock = { now: () => Date.now() };
const OWNER_PROCESS = fileURLToPath(new URL("owner-process.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../..", import.meta.url));

let dir: string;
let db: StateDb;
let store: JobStore;
const backends: Array<{ close(): void }> = [];
const leftovers: number[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-adopt-"));
  db = openStateStore(dir);
  store = createJobStore(db, clock);
});
afterEach(async () => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const backend of backends.splice(0)) backend.close();
  db.close();
  await rm(dir, { recursive: true, force: true });
});

function backend(isAlive?: (pid: number) => boolean) {
  const created = createLocalBackend(
    { ...readLocalOptions({ PATH: process.env["PATH"] ?? "", BATCHSHIP_STATE_DIR: dir }), concurrency: 4 },
    { tool: createProcessTool(), ...(isAlive === undefined ? {} : { isAlive }) },
  );
  backends.push(created);
  return created;
}

/** A job as an earlier process left it: submitted by `owner`, its children in `statuses`. */
async function leftBy(owner: Owner, script: string, statuses: Array<"RUNNING" | "RUNNABLE">): Promise<string> {
  const definitions = createJobDefinitionStore(db, clock);
  const { arn } = await definitions.registerJobDefinition(
    "left",
    { type: "container", platformCapabilities: ["EC2"], containerProperties: { image: "local/none@sha256:" + "0".repeat(64), command: ["sh", "-c", script] } },
    {},
  );
  const jobId = randomUUID();
  const request = { jobName: "left", jobQueue: "local", jobDefinitionArn: arn, arraySize: statuses.length, parameters: {}, environment: {}, tags: {} };
  store.insert(jobId, request, arn, owner);
  statuses.forEach((status, index) => {
    if (status === "RUNNING") store.update(jobId, index, { status, attempt: 1, startedAt: clock.now() });
  });
  return jobId;
}

async function until(what: string, read: () => Promise<JobState | undefined>, done: (state: JobState) => boolean, ms = 10_000): Promise<JobState> {
  const deadline = Date.now() + ms;
  for (;;) {
    const state = await read();
    if (state !== undefined && done(state)) return state;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Running, not a zombie nobody reaped. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe("adopting a job whose batchship process is gone", () => {
  it("adopts a job left by an earlier process that had this process's pid (a container restarted in place)", async () => {
    const jobId = await leftBy({ token: "the process before the restart", pid: process.pid, host: hostname() }, "exit 0", ["RUNNING"]);

    const state = await until("re-run", () => backend().platform.describeJob(jobId), (s) => s.status === "SUCCEEDED");

    expect(state.stoppedAt).toBeDefined();
    expect(store.job(jobId)?.owner_pid).toBe(process.pid);
    expect(store.job(jobId)?.owner_token).not.toBe("the process before the restart");
  });

  it("leaves a job whose owner runs, on this host or another, and adopts one whose owner died", async () => {
    const alive = await leftBy({ token: "alive", pid: 4242, host: hostname() }, "exit 0", ["RUNNING"]);
    const elsewhere = await leftBy({ token: "elsewhere", pid: 4242, host: `not-${hostname()}` }, "exit 0", ["RUNNING"]);
    const dead = await leftBy({ token: "dead", pid: 4242, host: hostname() }, "exit 0", ["RUNNING"]);
    const living = backend(() => true).platform;
    const dying = backend(() => false).platform;

    expect((await living.describeJob(alive))?.status).toBe("RUNNING");
    expect((await dying.describeJob(elsewhere))?.status).toBe("RUNNING");
    await until("re-run", () => dying.describeJob(dead), (s) => s.status === "SUCCEEDED");
    expect(store.job(alive)?.owner_token).toBe("alive");
    expect(store.job(elsewhere)?.owner_token).toBe("elsewhere");
  });

  it("adopts a job whose owner died but was never reaped (a zombie)", async () => {
    // `sleep 0` exits at once, and the shell's successor, `sleep 30`, never reaps it.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    leftovers.push(parent.pid ?? 0);
    const pid = Number(await new Promise<string>((resolve) => parent.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString()))));
    for (let i = 0; i < 100 && running(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(`/proc/${pid}`) && !running(pid)).toBe(true);
    const jobId = await leftBy({ token: "zombie", pid, host: hostname() }, "exit 0", ["RUNNING"]);

    await until("re-run", () => backend().platform.describeJob(jobId), (s) => s.status === "SUCCEEDED", 3_000);
  });

  it("never adopts a job of this very process, even from another backend in it", async () => {
    const first = backend().platform;
    const { arn } = await first.registerJobDefinition(
      "mine",
      { type: "container", platformCapabilities: ["EC2"], containerProperties: { image: "local/none@sha256:" + "0".repeat(64), command: ["sh", "-c", "sleep 1"] } },
      {},
    );
    const { jobId } = await first.submitJob({ jobName: "mine", jobQueue: "local", jobDefinitionArn: arn, arraySize: 1, parameters: {}, environment: {}, tags: {} });
    await until("start", () => first.describeJob(jobId), (s) => s.status === "RUNNING");

    const other = await backend(() => false).platform.describeJob(jobId);

    expect(other?.status).toBe("RUNNING");
    expect(other?.statusReason).toBeUndefined();
    await until("end", () => first.describeJob(jobId), (s) => s.status === "SUCCEEDED");
  });

  it("fails the children of a stopped job instead of queueing them again", async () => {
    const jobId = await leftBy({ token: "dead", pid: 4242, host: hostname() }, "exit 0", ["RUNNING", "RUNNABLE", "RUNNING"]);
    store.requestStop(jobId, "Stopped by batchship: superseded");

    const state = await until("stopped", () => backend(() => false).platform.describeJob(jobId), (s) => s.status === "FAILED", 3_000);

    expect(state.statusReason).toBe("Stopped by batchship: superseded");
    expect(state.childCounts?.FAILED).toBe(3);
    expect(state.stoppedAt).toBeDefined();
    expect(store.children(jobId).map((c) => c.status_reason)).toEqual(Array(3).fill("Stopped by batchship: superseded"));
  });

  it("kills what an owner killed with SIGKILL left running before running it again", { timeout: 60_000 }, async () => {
    const marks = await mkdtemp(join(dir, "marks-"));
    // First run: a shell and a sleep in the background, both in the child's process group. The
    // run after adoption notes whether that sleep still ran, then succeeds.
    const script = [
      'i="$AWS_BATCH_JOB_ARRAY_INDEX"',
      'if [ -e "$MARKS/$i.sleep" ]; then',
      '  p=$(cat "$MARKS/$i.sleep"); (cut -d" " -f3 "/proc/$p/stat" 2>/dev/null || echo gone) > "$MARKS/$i.seen"; exit 0',
      "fi",
      'echo $$ > "$MARKS/$i.shell"; sleep 300 & echo $! > "$MARKS/$i.sleep.tmp"; mv "$MARKS/$i.sleep.tmp" "$MARKS/$i.sleep"; wait',
    ].join("\n");
    const owner = spawn(process.execPath, ["--import", "tsx", OWNER_PROCESS, dir, "2", script, `MARKS=${marks}`], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((resolve) => owner.once("exit", resolve));
    let out = "";
    owner.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    try {
      const deadline = Date.now() + 30_000;
      // Both children started, and the owner recorded how to end each (it does so as it starts
      // them; a kill in between, a moment's window, would leave one nobody knows of).
      const handlesRecorded = () => {
        const jobId = out.trim();
        return jobId !== "" && store.children(jobId).filter((child) => child.run_handle !== null).length === 2;
      };
      while (!(existsSync(join(marks, "0.sleep")) && existsSync(join(marks, "1.sleep")) && out.includes("\n") && handlesRecorded())) {
        if (Date.now() > deadline || owner.exitCode !== null) throw new Error(`the owner process did not start its children: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      owner.kill("SIGKILL");
      await exited;
    }
    const jobId = out.trim();
    const orphans = await Promise.all(
      ["0.shell", "0.sleep", "1.shell", "1.sleep"].map(async (name) => Number((await readFile(join(marks, name), "utf8")).trim())),
    );
    leftovers.push(...orphans);
    // Started detached, they outlive their owner.
    expect(orphans.map(running)).toEqual([true, true, true, true]);

    const state = await until("re-run", () => backend().platform.describeJob(jobId), (s) => s.status === "SUCCEEDED");

    expect(state.childCounts?.SUCCEEDED).toBe(2);
    expect(orphans.filter(running)).toEqual([]);
    for (const index of [0, 1]) expect((await readFile(join(marks, `${index}.seen`), "utf8")).trim()).toMatch(/^(gone|Z)$/);
  });
});

describe("killOrphanedGroup", () => {
  it("kills a process group only while its leader is the process recorded", async () => {
    let group: ProcessGroup | undefined;
    const ran = runCommand("sh", ["-c", "sleep 30 & wait"], {
      env: { PATH: process.env["PATH"] ?? "" },
      onStart: (started) => (group = started.group),
    });
    expect(group?.started).toBe(processStart(group?.pgid ?? 0));
    if (group === undefined) throw new Error("no process group recorded");

    expect(killOrphanedGroup({ pgid: group.pgid, started: `${group.started}0` })).toBe(false);
    expect(running(group.pgid)).toBe(true);
    expect(killOrphanedGroup(group)).toBe(true);

    expect((await ran).signal).toBe("SIGKILL");
    expect(killOrphanedGroup(group)).toBe(false);
  });
});
