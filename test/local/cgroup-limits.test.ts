import { spawn } from "node:child_process";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectCgroups } from "../../src/local/cgroup-limits.js";
import { runRelease } from "../../src/release/run-release.js";
import { startLocalHarness, type LocalHarness } from "./harness.js";

// Real builds with buildah, a real registry and real containers.
const SLOW = 120_000;

// The machine decides: cgroups are writable as root or in a delegated subtree, not everywhere.
const support = await detectCgroups();
const memoryDir = support.memory?.dir;
const cpuDir = support.cpu?.dir;
const writable = memoryDir !== undefined && cpuDir !== undefined;
const why = writable ? "" : ` (skipped: this machine gives batchship no writable memory and cpu cgroups: ${support.notApplied ?? "unknown"})`;

const SHELL_IMAGE = [
  "FROM scratch",
  "COPY busybox /bin/busybox",
  'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
  "ENV PATH=/bin",
  "",
].join("\n");

// Shows its groups, stays a moment (so its cpu group can be read while it runs), then allocates
// 300 MB in one buffer: dd reads /dev/zero into it, so every page is really used.
const ALLOCATE = 'grep -E ":(memory|cpu)[:,]" /proc/self/cgroup; sleep 1.5; dd if=/dev/zero of=/dev/null bs=300M count=1 && echo allocated';

/** Every value in the cpu quota files of this process's child groups, read again and again until stopped. */
function watchCpuQuotas(dir: string): { stop: () => Promise<string[]> } {
  const seen = new Set<string>();
  let reading = Promise.resolve();
  const look = async () => {
    for (const entry of await readdir(dir).catch(() => [])) {
      if (!entry.startsWith(`batchship-${process.pid}-`)) continue;
      // Only what a running child is under: between the group's mkdir and its limits' writes
      // the file still holds the kernel's default, and nothing has joined the group yet.
      const members = await readFile(join(dir, entry, "cgroup.procs"), "utf8").catch(() => "");
      if (members.trim() === "") continue;
      const quota = await readFile(join(dir, entry, support.cpu?.version === 2 ? "cpu.max" : "cpu.cfs_quota_us"), "utf8").catch(() => undefined);
      if (quota !== undefined) seen.add(quota.trim());
    }
  };
  const timer = setInterval(() => {
    reading = reading.then(look);
  }, 50);
  return {
    stop: async () => {
      clearInterval(timer);
      await reading;
      return [...seen];
    },
  };
}

/** This process's groups in `dir` (other test files may run children beside it). */
const ownGroups = async (dir: string) => (await readdir(dir)).filter((entry) => entry.startsWith(`batchship-${process.pid}-`));

let h: LocalHarness;
beforeAll(async () => {
  if (writable) h = await startLocalHarness();
}, SLOW);
afterAll(async () => h?.close());

describe.skipIf(!writable)(`memory and vCPU limits of buildah's canary children${why}`, () => {
  it(
    "kills a child over its memory limit and fails it for that, lets the same child run with enough, holds the vCPUs in its cpu quota, and leaves no group, nor one a crash left",
    { timeout: SLOW },
    async () => {
      // A group a crashed batchship left behind (its maker's pid is beyond any the kernel gives),
      // with a process of its child still in it.
      const left = join(memoryDir ?? "", "batchship-999999999-1-left-by-a-crash");
      await mkdir(left, { recursive: true });
      const leftOver = spawn(process.execPath, [join(import.meta.dirname, "..", "..", "build", "local", "cgroup-launcher.js"), join(left, "cgroup.procs"), "--", "sleep", "60"], {
        stdio: "ignore",
      });
      const leftOverEnded = new Promise((resolve) => leftOver.on("exit", (_code, signal) => resolve(signal)));
      while ((await readFile(join(left, "cgroup.procs"), "utf8")).trim() === "") await delay(20);
      const spec = (name: string, memoryMiB: number) =>
        h.spec(name, {
          canary: { arraySize: 1 },
          jobDefinition: {
            containerProperties: {
              command: ["sh", "-c", ALLOCATE],
              resourceRequirements: [
                { type: "VCPU", value: "1" },
                { type: "MEMORY", value: String(memoryMiB) },
              ],
            },
            parameters: {},
          },
        });
      const commit = await h.repo.commit({ Dockerfile: SHELL_IMAGE });

      const quotas = watchCpuQuotas(cpuDir ?? "");
      const [small, enough] = await Promise.all([
        runRelease(h.engine().ctx, { spec: spec("oom-small", 100), commit, branch: "main" }),
        runRelease(h.engine().ctx, { spec: spec("oom-enough", 1024), commit, branch: "main" }),
      ]);
      const seenQuotas = await quotas.stop();

      expect(enough.error).toBeUndefined();
      expect(enough.status).toBe("promoted");
      const fine = await h.backend.platform.describeJob(`${enough.canary?.jobId}:0`);
      const fineLog = await readFile(fine?.logStreamName ?? "", "utf8");
      expect(fineLog.split("\n")[0]).toBe("batchship: this child's limits: the job definition's 1 vCPU and 1024 MiB of memory (memory (cgroup v1), cpu (cgroup v1))".replaceAll("v1", `v${support.memory?.version}`));
      expect(fineLog).toContain("allocated");
      // The child ran inside its own groups, below this process's.
      expect(fineLog).toMatch(/:memory:\S*\/batchship-\d+-\d+-batchship-/);

      expect(small.status).not.toBe("promoted");
      const killed = await h.backend.platform.describeJob(`${small.canary?.jobId}:0`);
      expect(killed?.status).toBe("FAILED");
      expect(killed?.statusReason).toMatch(/^OutOfMemoryError: Container killed due to memory usage: the memory limit of 100 MiB; exit code 137; /);
      expect(killed?.exitCode).toBe(137);
      const killedLog = await readFile(killed?.logStreamName ?? "", "utf8");
      expect(killedLog).not.toContain("allocated");
      expect(killedLog).toContain("batchship: killed for its memory usage: the memory limit of 100 MiB");

      // One vCPU: 100 ms of every 100 ms period.
      expect(seenQuotas).toEqual([support.cpu?.version === 2 ? "100000 100000" : "100000"]);
      // Every child's groups are gone, and so is the one the crash left.
      expect(await readdir(memoryDir ?? "")).not.toContain("batchship-999999999-1-left-by-a-crash");
      expect(await ownGroups(memoryDir ?? "")).toEqual([]);
      expect(await ownGroups(cpuDir ?? "")).toEqual([]);
      expect(await leftOverEnded).toBe("SIGKILL");
    },
  );
});
