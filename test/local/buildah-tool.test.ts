import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBuildahTool } from "../../src/local/buildah-tool.js";
import { findExecutable } from "../../src/local/find-executable.js";

let dir: string;
/** A PATH with buildah and nothing else: no `unshare`, so no PID namespace of the child's own. */
let buildahOnly: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-buildah-"));
  buildahOnly = join(dir, "bin");
  await mkdir(buildahOnly);
  await symlink(findExecutable("buildah", process.env) ?? "buildah", join(buildahOnly, "buildah"));
  // A process in no cgroup hierarchy: no controller to give a child limits with.
  await mkdir(join(dir, "no-cgroups"));
  await writeFile(join(dir, "no-cgroups", "cgroup"), "");
  await writeFile(join(dir, "no-cgroups", "mountinfo"), "");
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("buildah children's logs", () => {
  it("open with what isolation the child goes without: the definition's limits, a PID namespace of its own", async () => {
    const tool = createBuildahTool({ env: { PATH: buildahOnly }, stateDir: join(dir, "state"), storageDriver: "vfs", procSelf: join(dir, "no-cgroups") });
    const logFile = join(dir, "child.log");
    // `scratch` needs no registry; the run itself fails, after the notes are written.
    await tool.run({
      image: "scratch",
      insecure: false,
      command: ["/no-such-program"],
      environment: {},
      resources: { vcpus: 0.5, memoryMiB: 256 },
      scratchDir: dir,
      name: `batchship-test-${process.pid}`,
      logFile,
      signal: new AbortController().signal,
    });

    expect((await readFile(logFile, "utf8")).split("\n").slice(0, 2)).toEqual([
      "batchship: not applied to this child: the job definition's 0.5 vCPU and 256 MiB of memory (buildah's chroot isolation sets no cgroup limits, and batchship cannot make its own: no cgroup memory controller (neither v1 nor v2) is mounted; no cgroup cpu controller (neither v1 nor v2) is mounted)",
      "batchship: this child shares the host's PID namespace: unshare (util-linux) is not installed",
    ]);
    expect(await tool.sharedPidsReason?.()).toBe("unshare (util-linux) is not installed");
  });
});
