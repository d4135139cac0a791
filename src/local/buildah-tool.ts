import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import type { ChildResources } from "./child-command.js";
import { cgroupLauncherArgs } from "./cgroup-launcher-command.js";
import { createChildGroups, detectCgroups, limitsNotApplied, removeLeftGroups, type CgroupSupport, type ChildGroups, type LimitName } from "./cgroup-limits.js";
import type { ChildLimits, ContainerRun, ContainerTool, RunOutcome } from "./container-tool.js";
import { killOrphanedGroup, runCommand, type CommandOutcome, type ProcessGroup, type RunOptions } from "./run-command.js";
import { buildArgFlags, runWithValues } from "./values-in-environment.js";

export interface BuildahSettings {
  env: NodeJS.ProcessEnv;
  /** buildah's storage lives under the state dir, apart from the user's own images. */
  stateDir: string;
  storageDriver: string;
  /** Where this process's cgroups are read (`cgroup`, `mountinfo`); /proc/self unless a test says otherwise. */
  procSelf?: string;
}

// buildah's own report of the container's exit status, which the outcome already carries.
const BUILDAH_EXIT_NOISE = /^(?:subprocess exited with status \d+|Error: (?:while running runtime: )?exit status \d+)$/;

interface InspectOutput {
  OCIv1?: { config?: { Entrypoint?: string[] | null; Cmd?: string[] | null } };
}

/**
 * A PID namespace of its own for each child, where the machine allows it (root, or user
 * namespaces): buildah's chroot isolation shares the host's, so a child would see every process
 * of the machine, and their command lines. `--mount-proc` gives the child's /proc only its own
 * processes; `--kill-child` ends them all when the run is killed.
 */
const PRIVATE_PIDS = ["--pid", "--fork", "--kill-child", "--mount-proc"];

/**
 * Measured with buildah 1.28: `buildah from --memory/--cpu-quota` change nothing under chroot
 * isolation (the child stays in batchship's cgroup), and rlimits are no sound stand-in:
 * RLIMIT_DATA bounds each process apart, not the child's processes together, and at small limits
 * it kills buildah's own chroot helper (a Go program) before the child starts; RLIMIT_NPROC
 * counts every process of the user, and root is exempt from it. So batchship makes each child's
 * cgroups itself, where it may, and starts `buildah run` inside them (cgroup-launcher.ts).
 */
const LIMITS_NOT_APPLIED = "buildah's chroot isolation sets no cgroup limits";

/**
 * buildah with chroot isolation: needs no daemon, no user namespaces and no overlay support, so
 * it works inside containers and CI machines where docker and podman cannot run. It applies no
 * cgroup limits (memory, CPU): README, "Isolation of canary children". Values (build arguments,
 * a child's environment) reach buildah through its environment, never its argv.
 */
export function createBuildahTool(settings: BuildahSettings): ContainerTool {
  const global = [
    "--root",
    join(settings.stateDir, "containers", "storage"),
    "--runroot",
    join(settings.stateDir, "containers", "run"),
    "--storage-driver",
    settings.storageDriver,
  ];
  const buildah = (args: string[], options: Partial<Parameters<typeof runCommand>[2]> = {}) =>
    runCommand("buildah", [...global, ...args], { env: settings.env, ...options });
  const tls = (insecure: boolean) => (insecure ? ["--tls-verify=false"] : []);
  // Asked once: whether `unshare` exists and may make a PID namespace here; if not, why not.
  let sharedPids: Promise<string | undefined> | undefined;
  const sharedPidsReason = () =>
    (sharedPids ??= runCommand("unshare", [...PRIVATE_PIDS, "--", "true"], { env: settings.env, timeoutMs: 10_000, tailLines: 1 }).then(
      (probe) =>
        probe.code === 0
          ? undefined
          : probe.missing
            ? "unshare (util-linux) is not installed"
            : `unshare --pid cannot run here${probe.tail[0] === undefined ? "" : ` (${probe.tail[0]})`}`,
    ));

  // Found once, with the launcher that joins them; groups a crashed batchship left are removed then.
  let cgroupSupport: Promise<CgroupSupport> | undefined;
  const cgroups = () =>
    (cgroupSupport ??= (async () => {
      const support = await detectCgroups(settings.procSelf);
      if (cgroupLauncherArgs() === undefined) {
        return { memory: undefined, cpu: undefined, applied: undefined, notApplied: "batchship's cgroup launcher is not installed beside it" };
      }
      await removeLeftGroups(support, 1_000);
      return support;
    })());

  return {
    name: "buildah",
    sharedPidsReason,

    async childLimits(): Promise<ChildLimits> {
      const support = await cgroups();
      const all = { vcpus: 1, memoryMiB: 1 };
      const missing = limitsNotApplied(support, all);
      const applied = (["vcpus", "memory"] as const).filter((limit) => !missing.includes(limit));
      return {
        applied: applied.length === 0 ? undefined : { limits: applied, how: `batchship's own cgroups: ${support.applied ?? ""}` },
        notApplied: missing.length === 0 ? undefined : { limits: missing, why: `${LIMITS_NOT_APPLIED}, and batchship cannot make its own: ${support.notApplied ?? "unknown"}` },
      };
    },

    build(input) {
      const tags = input.tags.flatMap((tag) => ["--tag", tag]);
      return runWithValues(
        "buildah",
        [...global, "bud", "--isolation", "chroot", "--layers", "--file", input.dockerfile, ...tags, ...buildArgFlags(input.buildArgs), "--", input.contextDir],
        input.buildArgs,
        { env: settings.env, logFile: input.logFile, timeoutMs: input.timeoutMs },
      );
    },

    push(reference, insecure, logFile) {
      return buildah(["push", ...tls(insecure), "--", reference, `docker://${reference}`], { logFile });
    },

    async run(input) {
      // Before `from`: a process killed while it pulls may leave the named working container.
      input.onStart?.({ container: input.name });
      const pidsShared = await sharedPidsReason();
      const support = await cgroups();
      await noteIsolation(input.logFile, input.resources, support, pidsShared);
      const from = await buildah(
        ["from", "--pull=missing", ...tls(input.insecure), "--name", input.name, "--", input.image],
        { signal: input.signal },
      );
      if (from.code !== 0) return { ...from, started: false };
      try {
        const argv = await commandLine(input);
        if (argv.length === 0) return noCommand(input.image);
        const configured = await configureEnvironment(input);
        if (configured.code !== 0) return { ...configured, started: false };
        const runArgs = [...global, "run", "--isolation", "chroot", "--", input.name, ...argv];
        const options = {
          env: settings.env,
          logFile: input.logFile,
          signal: input.signal,
          onStart: ({ group }: { group: ProcessGroup | undefined }) => input.onStart?.({ container: input.name, ...(group === undefined ? {} : { group }) }),
          ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
        };
        const command = pidsShared === undefined ? ["unshare", ...PRIVATE_PIDS, "--", "buildah", ...runArgs] : ["buildah", ...runArgs];
        let groups: ChildGroups | undefined;
        try {
          groups = await createChildGroups(support, input.resources, input.name);
        } catch (error) {
          return cannotStart(`could not make the child's cgroup for its limits: ${error instanceof Error ? error.message : String(error)}`);
        }
        let ran = await launch(command, groups, options);
        try {
          // Read before the groups go: whether the kernel killed the child for its memory limit.
          const limitMiB = groups?.resources.memoryMiB;
          if (ran.code !== 0 && limitMiB !== undefined && (await groups?.outOfMemory()) === true) {
            // 128 + SIGKILL, as Batch reports a container the OOM killer ended, whichever of the
            // processes between batchship and the child passed the kill on as its own.
            ran = { ...ran, code: ran.code ?? 137, signal: undefined, outOfMemoryMiB: limitMiB };
            await note(input.logFile, [`batchship: killed for its memory usage: the memory limit of ${limitMiB} MiB`]);
          }
        } finally {
          await groups?.remove();
        }
        return { ...ran, tail: ran.tail.filter((line) => !BUILDAH_EXIT_NOISE.test(line)), started: true };
      } finally {
        await buildah(["rm", "--", input.name]);
      }
    },

    async reap(handle) {
      // The group first, so nothing runs in the working container any more when it is removed.
      if (handle.group !== undefined) killOrphanedGroup(handle.group);
      // The dead run's cgroups, once its processes have left them.
      await removeLeftGroups(await cgroups(), 2_000);
      if (handle.container !== undefined) await buildah(["rm", "--", handle.container]);
    },
  };

  /**
   * The child's environment goes into the working container's configuration, from which `buildah
   * run` sets it: `buildah config --env NAME` takes the value from its own environment (buildah
   * 1.28 has no environment file, and `buildah run --env NAME` without a value sets nothing).
   * The configuration is buildah's storage under the state dir (mode 0700), gone with the
   * container. Set after the image's ENV, so a variable of both has the job's value, as on Batch.
   * buildah refuses a name whose value is empty ("no value given"): that one is `NAME=`, with
   * nothing to hide.
   */
  function configureEnvironment(input: ContainerRun) {
    const names = Object.entries(input.environment).flatMap(([name, value]) => ["--env", value === "" ? `${name}=` : name]);
    return runWithValues("buildah", [...global, "config", ...names, "--", input.name], input.environment, {
      env: settings.env,
      signal: input.signal,
    });
  }

  /** `buildah run` ignores ENTRYPOINT and CMD: put them together as a container runtime would. */
  async function commandLine(input: ContainerRun): Promise<string[]> {
    // Older buildah has no `json` template function: read the whole document.
    const inspected = await buildah(["inspect", "--type", "container", "--", input.name], { tailLines: 1 });
    const config = inspected.code === 0 ? ((JSON.parse(inspected.stdout) as InspectOutput).OCIv1?.config ?? {}) : {};
    return [...(config.Entrypoint ?? []), ...(input.command ?? config.Cmd ?? [])];
  }
}

/**
 * Lines at the top of the child's log, so whoever reads it knows which limits hold and what
 * isolation does not.
 */
async function noteIsolation(logFile: string, resources: ChildResources, support: CgroupSupport, pidsShared: string | undefined): Promise<void> {
  const missing = limitsNotApplied(support, resources);
  const describe = (limits: LimitName[]) =>
    limits.map((limit) => (limit === "vcpus" ? `${resources.vcpus} vCPU` : `${resources.memoryMiB} MiB of memory`)).join(" and ");
  const applied = (["vcpus", "memory"] as const).filter((limit) => (limit === "vcpus" ? resources.vcpus : resources.memoryMiB) !== undefined && !missing.includes(limit));
  await note(logFile, [
    ...(applied.length === 0 ? [] : [`batchship: this child's limits: the job definition's ${describe(applied)} (${support.applied ?? ""})`]),
    ...(missing.length === 0
      ? []
      : [`batchship: not applied to this child: the job definition's ${describe(missing)} (${LIMITS_NOT_APPLIED}, and batchship cannot make its own: ${support.notApplied ?? "unknown"})`]),
    ...(pidsShared === undefined ? [] : [`batchship: this child shares the host's PID namespace: ${pidsShared}`]),
  ]);
}

async function note(logFile: string, notes: string[]): Promise<void> {
  if (notes.length === 0) return;
  try {
    await appendFile(logFile, notes.map((note) => `${note}\n`).join(""));
  } catch {
    // The run writes its own output there and says so if it cannot.
  }
}

/** Runs `command` inside the child's groups, through the launcher that joins them first; as it is without groups. */
function launch(command: readonly string[], groups: ChildGroups | undefined, options: RunOptions): Promise<CommandOutcome & { outOfMemoryMiB?: number }> {
  const launcher = cgroupLauncherArgs();
  const [file = "buildah", ...args] = command;
  return groups === undefined || launcher === undefined
    ? runCommand(file, args, options)
    : runCommand(process.execPath, [...launcher, ...groups.procsFiles, "--", ...command], options);
}

function noCommand(image: string): RunOutcome {
  return cannotStart(`${image} has no ENTRYPOINT or CMD and the job definition sets no command`);
}

function cannotStart(reason: string): RunOutcome {
  return {
    started: false,
    code: undefined,
    signal: undefined,
    timedOut: false,
    missing: false,
    stdout: "",
    tail: [reason],
  };
}
