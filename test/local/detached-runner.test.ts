import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createJobStore } from "../../src/local/job-store.js";
import { createLocalBackend, readLocalOptions, type LocalBackend, type LocalBackendExtras } from "../../src/local/index.js";
import type { JobState } from "../../src/release/ports.js";
import { openStateStore } from "../../src/local/state-store.js";
import { runCli } from "../cli/run-cli.js";
import { createProcessTool } from "./process-tool.js";

let dir: string;
const backends: LocalBackend[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-detach-"));
});
afterEach(async () => {
  for (const backend of backends.splice(0)) backend.close();
  await rm(dir, { recursive: true, force: true });
});

function backend(extras: LocalBackendExtras = {}): LocalBackend {
  const created = createLocalBackend(
    { ...readLocalOptions({ PATH: process.env["PATH"] ?? "", BATCHSHIP_STATE_DIR: dir }), concurrency: 2 },
    { tool: createProcessTool(), ...extras },
  );
  backends.push(created);
  return created;
}

async function submit(platform: LocalBackend["platform"], script: string, arraySize = 2): Promise<string> {
  const { arn } = await platform.registerJobDefinition(
    "detached",
    { type: "container", platformCapabilities: ["EC2"], containerProperties: { image: "local/none@sha256:" + "0".repeat(64), command: ["sh", "-c", script] } },
    {},
  );
  const request = { jobName: "detached", jobQueue: "local", jobDefinitionArn: arn, arraySize, parameters: {}, environment: {}, tags: {} };
  return (await platform.submitJob(request)).jobId;
}

/** The pid the store names as the job's owner. */
function ownerPid(jobId: string): number | undefined {
  const db = openStateStore(dir);
  try {
    return createJobStore(db, { now: () => Date.now() }).job(jobId)?.owner_pid;
  } finally {
    db.close();
  }
}

async function until(read: () => Promise<JobState | undefined>, done: (state: JobState) => boolean): Promise<JobState> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const state = await read();
    if (state !== undefined && done(state)) return state;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("handing a job to a detached runner", () => {
  it("leaves a job whose runner died before it ran anything to the adoption rule, which runs each child once", async () => {
    const marks = join(dir, "marks");
    // A "runner" that exits at once, as one killed right after it was started.
    const submitter = backend({ detachJobsWith: ["sh", "-c", "exit 0", "sh"] });
    const jobId = await submit(submitter.platform, `echo "$AWS_BATCH_JOB_ARRAY_INDEX" >> ${marks}`);
    expect(ownerPid(jobId)).not.toBe(process.pid);

    const state = await until(() => submitter.platform.describeJob(jobId), (s) => s.status === "SUCCEEDED");

    expect(state.childCounts?.SUCCEEDED).toBe(2);
    expect((await readFile(marks, "utf8")).split("\n").filter(Boolean).sort()).toEqual(["0", "1"]);
  });

  it("does not run children before the job was handed over, and a runner that is not handed one runs nothing", async () => {
    const marks = join(dir, "marks");
    // Alive for the whole test: the job is its, so nobody adopts it.
    const submitter = backend({ detachJobsWith: ["sh", "-c", "sleep 30", "sh"] });
    const jobId = await submit(submitter.platform, `echo ran >> ${marks}`);
    const runner = ownerPid(jobId) ?? -1;
    expect(runner).toBeGreaterThan(1);
    expect(runner).not.toBe(process.pid);
    const stranger = backend({ owner: { token: randomUUID(), pid: process.pid, host: hostname() }, sleep: async () => {} });

    expect(await stranger.runHandedOverJob(jobId)).toBe(false);
    const state = await submitter.platform.describeJob(jobId);
    expect(state?.childCounts?.RUNNABLE).toBe(2);
    await expect(readFile(marks, "utf8")).rejects.toThrow();
    await submitter.platform.stopJob(jobId, "test over");
    if (runner > 1) process.kill(runner);
  });

  it("refuses runner arguments that are not a state dir and ids (exit 2)", async () => {
    const run = await runCli(["run-local-job", "--state-dir", "relative/dir", "--job-id", randomUUID(), "--owner-token", randomUUID()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Invalid --state-dir "relative/dir"');
    const escape = await runCli(["run-local-job", "--state-dir", dir, "--job-id", "../../etc", "--owner-token", randomUUID()]);
    expect(escape.code).toBe(2);
    expect(escape.stderr).toContain('Invalid --job-id "../../etc"');
  });
});
