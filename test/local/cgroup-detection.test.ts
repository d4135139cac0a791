import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectCgroups } from "../../src/local/cgroup-limits.js";

// Folders stand in for cgroup hierarchies: a group can be made in them, but it holds no limit
// files, so each detection ends saying where it looked and what it missed there.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-cgroups-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function proc(name: string, cgroup: string[], mountinfo: string[]): Promise<string> {
  const self = join(dir, name);
  await mkdir(self);
  await writeFile(join(self, "cgroup"), `${cgroup.join("\n")}\n`);
  await writeFile(join(self, "mountinfo"), `${mountinfo.join("\n")}\n`);
  return self;
}

const v1Mount = (root: string, mountPoint: string, controllers: string) =>
  `34 30 0:31 ${root} ${mountPoint} rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,${controllers}`;

describe("finding this process's cgroups", () => {
  it("finds its v1 groups inside a mount that shows only part of the hierarchy, as in a container", async () => {
    const hierarchy = join(dir, "cpu,cpuacct");
    await mkdir(join(hierarchy, "job"), { recursive: true });
    const self = await proc("container", ["5:cpu,cpuacct:/docker/abc/job", "4:memory:/elsewhere"], [v1Mount("/docker/abc", hierarchy, "cpu,cpuacct"), v1Mount("/docker/abc", join(dir, "m"), "memory")]);

    const found = await detectCgroups(self);

    expect(found.cpu).toBeUndefined();
    expect(found.memory).toBeUndefined();
    expect(found.notApplied).toBe(
      `the cgroup v1 memory controller is not mounted where this process can see its group; the cpu controller does not reach cgroups made in ${join(hierarchy, "job")} (no cpu.cfs_quota_us)`,
    );
  });

  it("reads mount points with escaped spaces", async () => {
    const hierarchy = join(dir, "with space");
    await mkdir(hierarchy);
    const self = await proc("escaped", ["4:memory:/"], [v1Mount("/", hierarchy.replaceAll(" ", "\\040"), "memory")]);
    expect((await detectCgroups(self)).notApplied).toContain(`the memory controller does not reach cgroups made in ${hierarchy} (no memory.limit_in_bytes)`);
  });

  it("on cgroup v2, uses a controller only where the group offers it, and enables it for the groups it makes", async () => {
    const unified = join(dir, "unified");
    const own = join(unified, "user.slice", "batchship");
    await mkdir(own, { recursive: true });
    await writeFile(join(own, "cgroup.controllers"), "cpuset cpu io pids\n");
    await writeFile(join(own, "cgroup.subtree_control"), "\n");
    const self = await proc("v2", ["0::/user.slice/batchship"], ["40 30 0:37 / " + unified + " rw,relatime - cgroup2 cgroup2 rw"]);

    const found = await detectCgroups(self);

    expect(found.notApplied).toBe(
      `the cgroup v2 memory controller is not available to ${own}; the cpu controller does not reach cgroups made in ${own} (no cpu.max)`,
    );
    // Asked to hand cpu down to the groups made below it.
    expect(await readFile(join(own, "cgroup.subtree_control"), "utf8")).toBe("+cpu");
  });

  it("says so when the process is in no hierarchy", async () => {
    expect((await detectCgroups(await proc("none", [], []))).notApplied).toBe(
      "no cgroup memory controller (neither v1 nor v2) is mounted; no cgroup cpu controller (neither v1 nor v2) is mounted",
    );
    expect((await detectCgroups(join(dir, "missing"))).notApplied).toMatch(/^cannot read this process's cgroups \(ENOENT/);
  });
});
