import type { ChildResources } from "./child-command.js";
import type { LimitName } from "./cgroup-limits.js";
import type { CommandOutcome, ProcessGroup } from "./run-command.js";

export type ContainerToolName = "docker" | "podman" | "buildah";

export interface BuildInput {
  contextDir: string;
  dockerfile: string;
  /** Full references: `127.0.0.1:5000/etl:<sha>`. */
  tags: readonly string[];
  buildArgs: Readonly<Record<string, string>>;
  logFile: string;
  timeoutMs: number;
}

export interface ContainerRun {
  /** Pinned reference: `127.0.0.1:5000/etl@sha256:…`. */
  image: string;
  insecure: boolean;
  /** Replaces the image's CMD, as Batch's `command` does; undefined keeps it. */
  command: readonly string[] | undefined;
  environment: Readonly<Record<string, string>>;
  /** The job definition's vCPU and memory limits, applied where the tool can (README, "Isolation of canary children"). */
  resources: ChildResources;
  /** A private folder for this run's files (the environment file), removed by the caller after. */
  scratchDir: string;
  /** Unique per attempt; the container is removed when it ends. */
  name: string;
  logFile: string;
  timeoutMs?: number;
  signal: AbortSignal;
  /** Called with what the run leaves on the machine as soon as it exists, and again as it grows. */
  onStart?: (handle: RunHandle) => void;
}

/**
 * What a run leaves behind if the batchship process running it dies: its commands run in their
 * own process group, so they outlive a kill -9, and its container outlives them.
 */
export interface RunHandle {
  /** docker and podman run it on without their client; buildah keeps its working container. */
  container?: string;
  /** The process group running the container (`buildah run` and what it started). */
  group?: ProcessGroup;
}

/** One way of building and running OCI images on this machine. Every call is argv, no shell. */
export interface ContainerTool {
  name: ContainerToolName;
  /**
   * Which of the job definition's limits children get, where the tool finds out on the machine
   * (buildah: only through cgroups batchship makes itself). What is not applied, and why, is said
   * in `doctor` and at the top of the log of every child that asks for it. undefined: all of them.
   */
  childLimits?(): Promise<ChildLimits>;
  /** Why children share the host's PID namespace, where they do; undefined where each has its own. */
  sharedPidsReason?(): Promise<string | undefined>;
  build(input: BuildInput): Promise<CommandOutcome>;
  push(reference: string, insecure: boolean, logFile: string): Promise<CommandOutcome>;
  /** Runs one container to its end (or its timeout, or the signal) and removes it. */
  run(input: ContainerRun): Promise<RunOutcome>;
  /**
   * Ends what a run of a batchship process that has died left going, before the run is made
   * again: kills its process group while that is still the recorded one, removes its container.
   * Never rejects; ending what is already gone does nothing.
   */
  reap(handle: RunHandle): Promise<void>;
}

/** What children get of the definition's limits on this machine. */
export interface ChildLimits {
  applied: { limits: LimitName[]; how: string } | undefined;
  notApplied: { limits: LimitName[]; why: string } | undefined;
}

/**
 * `started: false` — the container never ran (pull failed, no command): the tail says why.
 * `outOfMemoryMiB` — the kernel killed it for using more than this memory limit.
 */
export type RunOutcome = CommandOutcome & { started: boolean; outOfMemoryMiB?: number };
