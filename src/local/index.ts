import { join } from "node:path";
import type { Backend, Clock, Sleep } from "../release/ports.js";
import { realSleep, systemClock } from "../release/ports.js";
import { createArrayRunner } from "./array-runner.js";
import type { ContainerTool } from "./container-tool.js";
import { detectContainerTool } from "./detect-container-tool.js";
import { createFileLogReader } from "./file-log-reader.js";
import { checkLocalEnvironment } from "./doctor.js";
import { parseImageReference } from "./image-reference.js";
import { createJobDefinitionStore } from "./job-definition-store.js";
import { createJobStore, type Owner } from "./job-store.js";
import { runHandedOverJob, spawnJobRunner } from "./detached-runner.js";
import { createLocalBuilder } from "./local-builder.js";
import { createLocalPlatform, THIS_PROCESS, type PlatformDeps } from "./local-platform.js";
import { createOciRegistry } from "./oci-registry.js";
import type { LocalOptions } from "./options.js";
import { createSemaphore } from "./semaphore.js";
import { createLogPrune, type PrunedLogs } from "./prune-logs.js";
import { openStateStore } from "./state-store.js";

export { readLocalOptions, type LocalOptions } from "./options.js";

export interface LocalBackend extends Backend {
  close(): void;
  /** Deletes the logs of builds and jobs that ended before `cutoff` (epoch ms): see prune-logs.ts. */
  pruneLogs(cutoff: number): PrunedLogs;
  /**
   * The same backend (store, slots for children, registry) building from another repository:
   * the service's mirror of the repository a release comes from.
   */
  atRepository(repositoryDir: string): Backend;
  /** In a detached runner process: runs the job handed to `owner` to its end (detached-runner.ts). */
  runHandedOverJob(jobId: string): Promise<boolean>;
}

export interface LocalBackendExtras {
  clock?: Clock;
  /** A fixed tool instead of detecting one (tests). */
  tool?: ContainerTool;
  isAlive?: PlatformDeps["isAlive"];
  sleep?: Sleep;
  /** This process as a job owner; a detached runner is the owner its submitter named. */
  owner?: Owner;
  /**
   * The caller will not wait for the jobs it submits: each runs in a detached `batchship`
   * started with this command line (node, its flags, the script), which outlives the caller.
   */
  detachJobsWith?: readonly string[];
}

/**
 * The local implementation of the engine's ports: images built by docker, podman or buildah and
 * pushed to an OCI registry; job definitions and jobs in SQLite under the state dir; canary
 * children as real containers run by this process.
 */
export function createLocalBackend(options: LocalOptions, extras: LocalBackendExtras = {}): LocalBackend {
  const clock = extras.clock ?? systemClock;
  const db = openStateStore(options.stateDir);
  let detected: Promise<ContainerTool> | undefined;
  const tool = (): Promise<ContainerTool> => {
    if (extras.tool !== undefined) return Promise.resolve(extras.tool);
    // A failed detection is not remembered: installing the tool fixes the next call.
    detected ??= detectContainerTool({
      env: options.toolEnv,
      stateDir: options.stateDir,
      buildahStorageDriver: options.buildahStorageDriver,
    }).catch((error: unknown) => {
      detected = undefined;
      throw error;
    });
    return detected;
  };
  const isInsecure = (image: string): boolean => {
    try {
      return parseImageReference(image.split("@")[0] ?? image, options.insecureRegistries).insecure;
    } catch {
      return false;
    }
  };
  const jobs = createJobStore(db, clock);
  const childLogsDir = join(options.stateDir, "jobs");
  const definitions = createJobDefinitionStore(db, clock);
  const runner = createArrayRunner({
    jobs,
    definitions,
    tool,
    slots: createSemaphore(options.concurrency),
    clock,
    logsDir: childLogsDir,
    isInsecure,
  });
  const registry = createOciRegistry(options.insecureRegistries);
  const builderAt = (repositoryDir: string | undefined) =>
    createLocalBuilder({
      db,
      tool,
      stateDir: options.stateDir,
      repositoryDir,
      insecureRegistries: options.insecureRegistries,
      now: () => clock.now(),
    });
  const owner = extras.owner ?? THIS_PROCESS;
  const detachWith = extras.detachJobsWith;
  const backend: LocalBackend = {
    builder: builderAt(options.repositoryDir),
    registry,
    platform: createLocalPlatform({
      jobs,
      definitions,
      runner,
      owner,
      ...(extras.isAlive === undefined ? {} : { isAlive: extras.isAlive }),
      ...(detachWith === undefined ? {} : { detach: (jobId: string) => spawnJobRunner(detachWith, options.stateDir, options.toolEnv, jobId) }),
    }),
    logs: createFileLogReader(childLogsDir),
    doctor: (spec) => checkLocalEnvironment(spec, { tool, registry, stateDir: options.stateDir }),
    close: () => db.close(),
    pruneLogs: createLogPrune(db, options.stateDir),
    atRepository: (repositoryDir) => ({ ...backend, builder: builderAt(repositoryDir) }),
    runHandedOverJob: (jobId) => runHandedOverJob({ jobs, runner, owner, sleep: extras.sleep ?? realSleep }, jobId),
  };
  return backend;
}
