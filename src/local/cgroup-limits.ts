import { mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { ChildResources } from "./child-command.js";
import { processStart } from "./run-command.js";

/** A limit the job definition may ask for. */
export type LimitName = "vcpus" | "memory";

/** Where a controller of this process lives: its own group's directory, in a v1 or the v2 hierarchy. */
interface Controller {
  version: 1 | 2;
  /** The cgroup this process is in, as a directory: child groups are made inside it. */
  dir: string;
}

/** Which of the definition's limits children get here, and why the others not. */
export interface CgroupSupport {
  memory: Controller | undefined;
  cpu: Controller | undefined;
  /** How the applied limits are set, for doctor and the child's log: "memory (cgroup v1), cpu (cgroup v1)". */
  applied: string | undefined;
  /** Why a limit is not applied, when one is not. */
  notApplied: string | undefined;
}

/** A child's own groups, made before it starts and removed after it ends. */
export interface ChildGroups {
  /** The `cgroup.procs` files the launcher writes its pid to. */
  procsFiles: string[];
  /** The limits these groups hold. */
  resources: ChildResources;
  /** True when the kernel's OOM killer ended a process of the child for the memory limit. */
  outOfMemory(): Promise<boolean>;
  /** Kills what is left in the groups and removes them; waits a little for those processes to leave. Never rejects. */
  remove(): Promise<void>;
}

const PERIOD_US = 100_000;
// Names carry their maker's pid and start (clock ticks): a group whose maker is gone is left from a crash.
const GROUP_NAME = /^batchship-(\d+)-(\d+)-[a-z0-9-]+$/;

/**
 * Finds the cgroup controllers this process could give a child of its own: the memory and cpu
 * controllers of a v1 hierarchy, or of the v2 (unified) one where its `cgroup.controllers` lists
 * them, read from /proc/self/cgroup and /proc/self/mountinfo. Each is proven by making (and
 * removing) a group in it with the limit files a child's group needs; that takes root or a
 * delegated subtree. `procSelf` is there for tests.
 */
export async function detectCgroups(procSelf = "/proc/self"): Promise<CgroupSupport> {
  let memberships: Membership[];
  let mounts: CgroupMount[];
  try {
    memberships = parseMemberships(await readFile(join(procSelf, "cgroup"), "utf8"));
    mounts = parseMounts(await readFile(join(procSelf, "mountinfo"), "utf8"));
  } catch (error) {
    return unsupported(`cannot read this process's cgroups (${error instanceof Error ? error.message : String(error)})`);
  }
  const reasons: string[] = [];
  const find = async (controller: "memory" | "cpu", files: { 1: string; 2: string }): Promise<Controller | undefined> => {
    const found = locate(controller, memberships, mounts);
    if (typeof found === "string") {
      reasons.push(found);
      return undefined;
    }
    const problem = await probe(found, controller, files[found.version]);
    if (problem !== undefined) reasons.push(problem);
    return problem === undefined ? found : undefined;
  };
  const memory = await find("memory", { 1: "memory.limit_in_bytes", 2: "memory.max" });
  const cpu = await find("cpu", { 1: "cpu.cfs_quota_us", 2: "cpu.max" });
  const applied = [memory === undefined ? [] : [`memory (cgroup v${memory.version})`], cpu === undefined ? [] : [`cpu (cgroup v${cpu.version})`]].flat();
  return {
    memory,
    cpu,
    applied: applied.length === 0 ? undefined : applied.join(", "),
    notApplied: reasons.length === 0 ? undefined : reasons.join("; "),
  };
}

function unsupported(reason: string): CgroupSupport {
  return { memory: undefined, cpu: undefined, applied: undefined, notApplied: reason };
}

/** The limits of `support` that `resources` asks for and that it cannot apply. */
export function limitsNotApplied(support: CgroupSupport, resources: ChildResources): LimitName[] {
  return [
    ...(resources.vcpus !== undefined && support.cpu === undefined ? (["vcpus"] as const) : []),
    ...(resources.memoryMiB !== undefined && support.memory === undefined ? (["memory"] as const) : []),
  ];
}

/**
 * Makes a child's groups inside this process's own, with the limits `resources` asks for and
 * `support` can apply: v1 `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes`, so swap is
 * no way around it) and `cpu.cfs_quota_us` over a 100 ms period; v2 `memory.max`
 * (`memory.swap.max` 0) and `cpu.max`. undefined when it asks for none that can be applied.
 * Throws when a group cannot be made; what was made by then is removed.
 */
export async function createChildGroups(support: CgroupSupport, resources: ChildResources, unique: string): Promise<ChildGroups | undefined> {
  const name = `batchship-${ownTag()}-${unique.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
  const writes = new Map<string, Array<[file: string, value: string, optional?: boolean]>>();
  const add = (controller: Controller, ...entries: Array<[string, string, boolean?]>) =>
    writes.set(controller.dir, [...(writes.get(controller.dir) ?? []), ...entries]);
  const applied: ChildResources = {};
  if (resources.memoryMiB !== undefined && support.memory !== undefined) {
    const bytes = String(Math.floor(resources.memoryMiB * 1024 * 1024));
    // memsw must not be below the memory limit, so it goes second.
    if (support.memory.version === 1) add(support.memory, ["memory.limit_in_bytes", bytes], ["memory.memsw.limit_in_bytes", bytes, true]);
    else add(support.memory, ["memory.max", bytes], ["memory.swap.max", "0", true]);
    applied.memoryMiB = resources.memoryMiB;
  }
  if (resources.vcpus !== undefined && support.cpu !== undefined) {
    // The kernel takes no quota under 1 ms.
    const quota = String(Math.max(1000, Math.round(resources.vcpus * PERIOD_US)));
    if (support.cpu.version === 1) add(support.cpu, ["cpu.cfs_period_us", String(PERIOD_US)], ["cpu.cfs_quota_us", quota]);
    else add(support.cpu, ["cpu.max", `${quota} ${PERIOD_US}`]);
    applied.vcpus = resources.vcpus;
  }
  if (writes.size === 0) return undefined;

  const made: string[] = [];
  const remove = async () => {
    await Promise.all(made.map((dir) => removeGroup(dir, 2_000)));
  };
  try {
    for (const [parent, entries] of writes) {
      const dir = join(parent, name);
      await mkdir(dir);
      made.push(dir);
      for (const [file, value, optional] of entries) {
        try {
          await writeFile(join(dir, file), value);
        } catch (error) {
          if (!(optional === true && (error as NodeJS.ErrnoException).code === "ENOENT")) throw error;
        }
      }
    }
  } catch (error) {
    await remove();
    throw error;
  }
  const memoryDir = support.memory === undefined || applied.memoryMiB === undefined ? undefined : join(support.memory.dir, name);
  return {
    procsFiles: made.map((dir) => join(dir, "cgroup.procs")),
    resources: applied,
    async outOfMemory() {
      if (memoryDir === undefined || support.memory === undefined) return false;
      // v1 counts OOM kills in memory.oom_control (Linux 4.13+), v2 in memory.events.
      const file = support.memory.version === 1 ? "memory.oom_control" : "memory.events";
      try {
        const kills = /^oom_kill (\d+)$/m.exec(await readFile(join(memoryDir, file), "utf8"))?.[1];
        return kills !== undefined && Number(kills) > 0;
      } catch {
        return false;
      }
    },
    remove,
  };
}

/**
 * Removes the groups that batchship processes which have since died left in this process's own
 * groups (a crash between a child's start and its clean-up), with what still runs in them: their
 * runs are over, and are made again by whoever adopts their jobs. A group whose processes do not
 * leave within `waitMs` is left for the next time.
 */
export async function removeLeftGroups(support: CgroupSupport, waitMs = 0): Promise<void> {
  const parents = new Set([support.memory?.dir, support.cpu?.dir].filter((dir): dir is string => dir !== undefined));
  for (const parent of parents) {
    let entries: string[];
    try {
      entries = await readdir(parent);
    } catch {
      continue;
    }
    const left = entries.filter((entry) => {
      const match = GROUP_NAME.exec(entry);
      return match !== null && !isAlive(Number(match[1]), match[2] ?? "");
    });
    await Promise.all(left.map((entry) => removeGroup(join(parent, entry), waitMs)));
  }
}

/**
 * Kills what is still in the group and removes it, again every 50 ms up to `waitMs` while the
 * killed processes are still leaving. Whatever is in a child's group once the child has ended (or
 * its maker has died) is the child's own: a process that left the child's process group, which
 * the kill of that group missed.
 */
async function removeGroup(dir: string, waitMs: number): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    const members = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
    for (const pid of members.split("\n").filter((line) => /^\d+$/.test(line))) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code !== "EBUSY" || waited >= waitMs) return;
    }
    await delay(50);
  }
}

function ownTag(): string {
  return `${process.pid}-${processStart(process.pid)?.split("/")[1] ?? "0"}`;
}

function isAlive(pid: number, ticks: string): boolean {
  return processStart(pid)?.split("/")[1] === ticks;
}

/** Makes a group in the controller with the file a child's limit goes to, and removes it. */
async function probe(controller: Controller, name: "memory" | "cpu", limitFile: string): Promise<string | undefined> {
  if (controller.version === 2) {
    const problem = await enableInSubtree(controller.dir, name);
    if (problem !== undefined) return problem;
  }
  // Two tools of one process may probe at once: each its own group.
  const dir = join(controller.dir, `batchship-${ownTag()}-probe-${name}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      return `cannot make a cgroup in ${controller.dir} for the ${name} limit (${(error as NodeJS.ErrnoException).code ?? String(error)}; needs root or a delegated cgroup)`;
    }
  }
  try {
    await readFile(join(dir, limitFile), "utf8");
    return undefined;
  } catch {
    return `the ${name} controller does not reach cgroups made in ${controller.dir} (no ${limitFile})`;
  } finally {
    await rmdir(dir).catch(() => undefined);
  }
}

/**
 * v2 gives a group's children a controller only once the group lists it in its
 * `cgroup.subtree_control`; the kernel refuses that while the group itself holds processes,
 * unless it is the root (the "no internal processes" rule), so this works where batchship runs in
 * the root group or a delegated one.
 */
async function enableInSubtree(dir: string, name: "memory" | "cpu"): Promise<string | undefined> {
  try {
    const available = (await readFile(join(dir, "cgroup.controllers"), "utf8")).split(/\s+/);
    if (!available.includes(name)) return `the cgroup v2 ${name} controller is not available to ${dir}`;
    const enabled = (await readFile(join(dir, "cgroup.subtree_control"), "utf8")).split(/\s+/);
    if (!enabled.includes(name)) await writeFile(join(dir, "cgroup.subtree_control"), `+${name}`);
    return undefined;
  } catch (error) {
    return `cannot enable the cgroup v2 ${name} controller for groups in ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)}; needs root or a delegated cgroup)`;
  }
}

interface Membership {
  /** v1: the hierarchy's controllers; v2: empty. */
  controllers: string[];
  path: string;
}

interface CgroupMount {
  version: 1 | 2;
  /** The group the mount shows at its mount point. */
  root: string;
  mountPoint: string;
  /** v1: the hierarchy's controllers. */
  controllers: string[];
}

function parseMemberships(text: string): Membership[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [, controllers = "", ...path] = line.split(":");
      return { controllers: controllers === "" ? [] : controllers.split(","), path: path.join(":") };
    });
}

function parseMounts(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split("\n")) {
    const [before, after] = line.split(" - ");
    if (before === undefined || after === undefined) continue;
    const fields = before.split(" ");
    const [fsType, , superOptions = ""] = after.split(" ");
    const root = unescapeMount(fields[3] ?? "");
    const mountPoint = unescapeMount(fields[4] ?? "");
    if (fsType === "cgroup2") mounts.push({ version: 2, root, mountPoint, controllers: [] });
    else if (fsType === "cgroup") mounts.push({ version: 1, root, mountPoint, controllers: superOptions.split(",") });
  }
  return mounts;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** This process's group of `controller` as a directory, or why there is none. */
function locate(controller: "memory" | "cpu", memberships: Membership[], mounts: CgroupMount[]): Controller | string {
  const v1 = memberships.find((m) => m.controllers.includes(controller));
  if (v1 !== undefined) {
    const mount = mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
    const dir = mount === undefined ? undefined : within(mount, v1.path);
    return dir === undefined ? `the cgroup v1 ${controller} controller is not mounted where this process can see its group` : { version: 1, dir };
  }
  const v2 = memberships.find((m) => m.controllers.length === 0);
  const mount = mounts.find((m) => m.version === 2);
  if (v2 === undefined || mount === undefined) return `no cgroup ${controller} controller (neither v1 nor v2) is mounted`;
  const dir = within(mount, v2.path);
  if (dir === undefined) return `the cgroup v2 hierarchy is not mounted where this process can see its group`;
  return { version: 2, dir };
}

function within(mount: CgroupMount, path: string): string | undefined {
  const root = mount.root === "/" ? "" : mount.root;
  if (path !== root && !path.startsWith(`${root}/`)) return undefined;
  return join(mount.mountPoint, path.slice(root.length)).replace(/(.)\/$/, "$1");
}
