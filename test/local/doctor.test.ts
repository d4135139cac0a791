import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBuildahTool } from "../../src/local/buildah-tool.js";
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

describe("local doctor: the canary's limits", () => {
  const buildah = () => createBuildahTool({ env, stateDir, storageDriver: "vfs" });

  it("warns that buildah runs children without the vCPUs and memory the definition asks for", async () => {
    expect(await canaryLimits(buildah(), limited)).toEqual([
      {
        level: "warn",
        subject: "canary limits",
        message: "children run without the job definition's vCPUs and memory: buildah's chroot isolation sets no cgroup limits",
        hint: expect.stringContaining("docker or podman"),
      },
    ]);
    expect(await canaryLimits(buildah(), { vcpus: 2 })).toHaveLength(1);
  });

  it("says nothing when the definition asks for no limits, or the tool applies them", async () => {
    expect(await canaryLimits(buildah(), {})).toEqual([]);
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
