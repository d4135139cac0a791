import { availableParallelism, homedir } from "node:os";
import { join, resolve } from "node:path";
import { BatchshipError } from "../errors.js";

/**
 * Poll intervals for local builds and children, which start in a second rather than minutes:
 * AWS's defaults (10 s, 15 s) would report a 2-second canary as taking 15.
 */
export const LOCAL_POLLING = { buildIntervalMs: 500, canaryIntervalMs: 500 } as const;

/** Everything the local backend takes from outside, read once at the edge. */
export interface LocalOptions {
  /** SQLite store, build logs, child logs and buildah's own storage live here. */
  stateDir: string;
  /** Canary children running at once. */
  concurrency: number;
  /** Registry hosts (host or host:port) spoken to over plain HTTP without TLS verification. */
  insecureRegistries: readonly string[];
  /** A directory inside the git repository being released; the builder exports commits from it. */
  repositoryDir?: string;
  /** Environment of docker, podman and buildah (PATH finds them). */
  toolEnv: NodeJS.ProcessEnv;
  /** vfs works everywhere, containers included; overlay is faster where the kernel allows it. */
  buildahStorageDriver: string;
}

/**
 * BATCHSHIP_STATE_DIR, else `$XDG_STATE_HOME/batchship`, else `~/.local/state/batchship`: one
 * store per user, like one AWS account, so `status` and `promote` see the same revisions from
 * any directory.
 */
export function readLocalOptions(env: NodeJS.ProcessEnv = process.env): LocalOptions {
  const stateDir = env["BATCHSHIP_STATE_DIR"]
    ? resolve(env["BATCHSHIP_STATE_DIR"])
    : join(env["XDG_STATE_HOME"] || join(homedir(), ".local", "state"), "batchship");
  return {
    stateDir,
    concurrency: concurrencyFrom(env["BATCHSHIP_LOCAL_CONCURRENCY"]),
    insecureRegistries: (env["BATCHSHIP_INSECURE_REGISTRIES"] ?? "")
      .split(",")
      .map((host) => host.trim())
      .filter((host) => host !== ""),
    toolEnv: { ...env },
    buildahStorageDriver: storageDriverFrom(env["BATCHSHIP_BUILDAH_STORAGE_DRIVER"]),
  };
}

function concurrencyFrom(text: string | undefined): number {
  if (text === undefined || text === "") return availableParallelism();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new BatchshipError("USAGE", `Invalid BATCHSHIP_LOCAL_CONCURRENCY "${text}": expected a whole number 1-1024`);
  }
  return n;
}

function storageDriverFrom(text: string | undefined): string {
  if (text === undefined || text === "") return "vfs";
  if (!/^[a-z0-9]+$/.test(text)) {
    throw new BatchshipError("USAGE", `Invalid BATCHSHIP_BUILDAH_STORAGE_DRIVER "${text}": expected a driver name such as vfs or overlay`);
  }
  return text;
}
