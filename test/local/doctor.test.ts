import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBuildahTool } from "../../src/local/buildah-tool.js";
import { detectCgroups } from "../../src/local/cgroup-limits.js";
import { createDockerTool } from "../../src/local/docker-tool.js";
import { checkLocalEnvironment } from "../../src/local/doctor.js";
import { findExecutable } from "../../src/local/find-executable.js";
import { createOciRegistry } from "../../src/local/oci-registry.js";
import { PipelineSpec } from "../../src/spec/schema.js";
import { startRegistry, type TestRegistry } from "./registry.js";

let registry: TestRegistry;
let stateDir: string;
beforeAll(async () => {
  registry = await startRegistry();
  stateDir = await mkdtemp(join(tmpdir(), "batchship-doctor-"));
});
afterAll(async () => {
  await registry?.close();
  await rm(stateDir, { recursive: true, force: true });
});

function spec(containerProperties: Record<string, unknown>): PipelineSpec {
  return PipelineSpec.parse({
    apiVersion: "batchship/v1",
    name: "limits",
    source: { repository: "example/limits", branches: ["main"] },
    image: { repository: `${registry.host}/limits` },
    build: { backend: "local" },
    jobDefinition: { name: "limits", platform: "local", containerProperties: { command: ["true"], ...containerProperties } },
    canary: { jobQueue: "local", arraySize: 1 },
  });
}

const limited = { resourceRequirements: [{ type: "MEMORY", value: "512" }] };
const env = { PATH: process.env["PATH"] ?? "" };

async function doctorChecks(tool: ReturnType<typeof createBuildahTool>, containerProperties: Record<string, unknown>, subject: string) {
  const checks = await checkLocalEnvironment(spec(containerProperties), {
    tool: () => Promise.resolve(tool),
    registry: createOciRegistry([registry.host]),
    stateDir,
  });
  expect(checks.filter((check) => check.level === "fail")).toEqual([]);
  return checks.filter((check) => check.subject === subject);
}
const canaryLimits = (tool: ReturnType<typeof createBuildahTool>, containerProperties: Record<string, unknown>) =>
  doctorChecks(tool, containerProperties, "canary limits");

/** A /proc/self of a process in `cgroup`'s groups and `mountinfo`'s mounts. */
async function procSelf(name: string, cgroup: string, mountinfo: string): Promise<string> {
  const dir = join(stateDir, name);
  await mkdir(dir);
  await writeFile(join(dir, "cgroup"), cgroup);
  await writeFile(join(dir, "mountinfo"), mountinfo);
  return dir;
}

// Whether this machine lets batchship make cgroups (root, or a delegated subtree).
const cgroups = await detectCgroups();
const writable = cgroups.memory !== undefined && cgroups.cpu !== undefined;

describe("local doctor: the canary's limits", () => {
  it("warns that buildah runs children without the vCPUs and memory the definition asks for where no cgroup can be made", async () => {
    const buildah = createBuildahTool({ env, stateDir, storageDriver: "vfs", procSelf: await procSelf("no-cgroups", "", "") });
    expect(await canaryLimits(buildah, limited)).toEqual([
      {
        level: "warn",
        subject: "canary limits",
        message:
          "children run without the job definition's memory: buildah's chroot isolation sets no cgroup limits, and batchship cannot make its own: no cgroup memory controller (neither v1 nor v2) is mounted; no cgroup cpu controller (neither v1 nor v2) is mounted",
        hint: expect.stringContaining("docker or podman"),
      },
    ]);
    expect((await canaryLimits(buildah, { vcpus: 2 }))[0]?.message).toMatch(/^children run without the job definition's vCPUs: /);
  });

  it("warns where a hierarchy shows no limit file in the groups batchship makes", async () => {
    // A plain folder mounted as the memory hierarchy: groups can be made, but hold no limits.
    const fake = join(stateDir, "fake-memory");
    await mkdir(fake);
    const buildah = createBuildahTool({
      env,
      stateDir,
      storageDriver: "vfs",
      procSelf: await procSelf("plain-folder", "4:memory:/\n", `34 30 0:31 / ${fake} rw,relatime - cgroup cgroup rw,memory\n`),
    });
    expect((await canaryLimits(buildah, limited))[0]?.message).toContain(`the memory controller does not reach cgroups made in ${fake} (no memory.limit_in_bytes)`);
  });

  it.skipIf(!writable)(`says which limits children get through batchship's own cgroups, and warns of the others${writable ? "" : ` (skipped: ${cgroups.notApplied ?? ""})`}`, async () => {
    expect(await canaryLimits(createBuildahTool({ env, stateDir, storageDriver: "vfs" }), { vcpus: 1, memory: 256 })).toEqual([
      { level: "ok", subject: "canary limits", message: expect.stringMatching(/^children get the job definition's vCPUs and memory through batchship's own cgroups: memory \(cgroup v\d\), cpu \(cgroup v\d\)$/) },
    ]);
    // A process whose memory group is known and whose cpu group is not.
    const memoryOnly = (await readFile("/proc/self/cgroup", "utf8"))
      .split("\n")
      .filter((line) => /^\d+:[^:]*\bmemory\b/.test(line) || (cgroups.memory?.version === 2 && line.startsWith("0::")))
      .join("\n");
    const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((line) => !/ - cgroup2? .*\bcpu\b/.test(line)).join("\n");
    const partial = createBuildahTool({ env, stateDir, storageDriver: "vfs", procSelf: await procSelf("memory-only", memoryOnly, mounts) });
    expect(await canaryLimits(partial, { vcpus: 1, memory: 256 })).toEqual([
      { level: "ok", subject: "canary limits", message: expect.stringMatching(/^children get the job definition's memory through /) },
      { level: "warn", subject: "canary limits", message: expect.stringMatching(/^children run without the job definition's vCPUs: .*cpu/), hint: expect.any(String) },
    ]);
  });

  it("says nothing when the definition asks for no limits, or the tool applies them itself", async () => {
    expect(await canaryLimits(createBuildahTool({ env, stateDir, storageDriver: "vfs" }), {})).toEqual([]);
    expect(await canaryLimits(createDockerTool("docker", env), limited)).toEqual([]);
  });
});

describe("local doctor: the canary's processes", () => {
  it("warns when buildah's children would share the host's PID namespace, and says why", async () => {
    // A PATH with buildah and no `unshare`.
    const bin = join(stateDir, "bin");
    await mkdir(bin);
    await symlink(findExecutable("buildah", process.env) ?? "buildah", join(bin, "buildah"));
    const tool = createBuildahTool({ env: { PATH: bin }, stateDir, storageDriver: "vfs" });

    expect(await doctorChecks(tool, {}, "canary processes")).toEqual([
      {
        level: "warn",
        subject: "canary processes",
        message: "children share the host's PID namespace and see its processes: unshare (util-linux) is not installed",
        hint: expect.stringContaining("unshare"),
      },
    ]);
    // Here unshare may make one: the isolation test shows the child in it.
    expect(await doctorChecks(createBuildahTool({ env, stateDir, storageDriver: "vfs" }), {}, "canary processes")).toEqual([]);
  });
});
