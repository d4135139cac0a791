import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobStore } from "../../src/local/job-store.js";
import { openStateStore } from "../../src/local/state-store.js";
import { runCli } from "../cli/run-cli.js";
import { startLocalHarness, type LocalHarness } from "./harness.js";

// A real build, a real registry, real containers and three batchship processes.
const SLOW = 120_000;
/** How long each child sleeps: the --no-wait release must be back well before. */
const CHILD_SECONDS = 4;

let h: LocalHarness;
beforeAll(async () => {
  h = await startLocalHarness();
}, SLOW);
afterAll(async () => h?.close());

function pipelineYaml(registryHost: string): string {
  return [
    "apiVersion: batchship/v1",
    "name: nowait",
    "source: { repository: example/hello, branches: [main] }",
    `image: { repository: "${registryHost}/nowait" }`,
    "build: { backend: local }",
    "jobDefinition: { name: nowait, platform: local, containerProperties: { command: ['Ref::greeting'] }, parameters: { greeting: hello } }",
    "canary: { jobQueue: local, arraySize: 2 }",
    "",
  ].join("\n");
}

describe("release --no-wait on the local backend", () => {
  it("returns once the canary is submitted; a later release follows the same job, each child run once", { timeout: SLOW }, async () => {
    const app = await h.appFiles();
    // Every child sleeps, not only SLOW_INDEX's: the command returns while all of them run.
    const sleepy = (app["app.sh"] ?? "").replace('echo "child $index done"', `sleep ${CHILD_SECONDS}\necho "child $index done"`);
    const commit = await h.repo.commit({ ...app, "app.sh": sleepy, "nowait.yml": pipelineYaml(h.registry.host) });
    const pipeline = join(h.repo.dir, "nowait.yml");
    const env = { BATCHSHIP_STATE_DIR: h.stateDir, BATCHSHIP_LOCAL_CONCURRENCY: "2" };

    const submitted = await runCli(["release", "-p", pipeline, "--commit", commit, "--no-wait", "--json"], env);
    // Read at once: the children were handed to the runner and are still running.
    const db = openStateStore(h.stateDir);
    const jobs = createJobStore(db, { now: () => Date.now() });
    try {
      expect(submitted.code, submitted.stderr).toBe(0);
      const first = JSON.parse(submitted.stdout) as { status: string; canary: { jobId: string } };
      expect(first.status).toBe("canary-running");
      const jobId = first.canary.jobId;
      const unfinished = jobs.children(jobId).filter((c) => c.status !== "SUCCEEDED" && c.status !== "FAILED");
      expect(unfinished).toHaveLength(2);

      // The runner started both children on its own; the CLI that submitted them is gone.
      const started = await untilRunning(jobs, jobId);

      const followed = await runCli(["release", "-p", pipeline, "--commit", commit, "--json"], env);
      expect(followed.code, followed.stderr).toBe(0);
      const second = JSON.parse(followed.stdout) as { status: string; canary: { jobId: string; summary: Record<string, number> } };
      expect(second.status).toBe("promoted");
      expect(second.canary.jobId).toBe(jobId);
      expect(second.canary.summary["SUCCEEDED"]).toBe(2);

      // Nothing was run twice: the same first attempt, started when the runner started it, and
      // each child's log holds one run.
      for (const child of jobs.children(jobId)) {
        expect(child).toMatchObject({ status: "SUCCEEDED", attempt: 1, started_at: started.get(child.array_index) });
        const log = await readFile(child.log_path ?? "", "utf8");
        expect(log.match(/child \d+ done/g)).toHaveLength(1);
      }
      expect((await readdir(join(h.stateDir, "jobs", jobId))).filter((f) => f.endsWith(".log") && f !== "runner.log").sort()).toEqual([
        "0.attempt-1.log",
        "1.attempt-1.log",
      ]);

      // `batchship logs` reads the runner's children where it reads any.
      const logs = await runCli(["logs", "-p", pipeline, "--release", `nowait-${commit.slice(0, 12)}`, "--json"], env);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stdout).toContain("child 1 done");
    } finally {
      db.close();
    }
  });
});

/** Waits until both children run, and returns when each started. */
async function untilRunning(jobs: ReturnType<typeof createJobStore>, jobId: string): Promise<Map<number, number | null>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const children = jobs.children(jobId);
    if (children.every((c) => c.status === "RUNNING" && c.started_at !== null)) {
      return new Map(children.map((c) => [c.array_index, c.started_at]));
    }
    if (Date.now() > deadline) throw new Error(`children never ran: ${JSON.stringify(children)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
