import { createAwsBackend, createRevisionHintFile, revisionHintFilePath, type AwsBackendOptions } from "./aws/index.js";
import { createLocalBackend, readLocalOptions, type LocalBackend } from "./local/index.js";
import type { Backend } from "./release/ports.js";
import type { PipelineSpec } from "./spec/schema.js";

/** Where a release runs from, for backends that build on this machine. */
export interface BackendSite {
  /** A directory inside the git repository being released. */
  repositoryDir?: string;
  /**
   * The caller will not wait for the jobs it submits (`release --no-wait`): a backend that runs
   * jobs on this machine hands each to a detached batchship started with this command line.
   */
  detachJobsWith?: readonly string[];
}

/**
 * The backend a spec asks for. The CLI, the Action and the service all get theirs here; the
 * AWS one is configured by the SDK's standard environment (AWS_REGION, AWS_PROFILE, …), the
 * local one by BATCHSHIP_STATE_DIR and friends (src/local/options.ts).
 */
export function createBackendFor(
  spec: PipelineSpec,
  site: BackendSite = {},
  env: NodeJS.ProcessEnv = process.env,
  aws: AwsBackendOptions = {},
): Backend {
  switch (spec.build.backend) {
    case "codebuild":
      return createAwsBackend({}, aws);
    case "local":
      return createLocalBackend(
        {
          ...readLocalOptions(env),
          ...(site.repositoryDir === undefined ? {} : { repositoryDir: site.repositoryDir }),
        },
        site.detachJobsWith === undefined ? {} : { detachJobsWith: site.detachJobsWith },
      );
  }
}

/**
 * The AWS backend's options for a process that runs one command (the CLI, the Action): lookup
 * hints saved in the cache directory (BATCHSHIP_CACHE_DIR, …), so the next command starts warm.
 */
export function oneCommandAwsOptions(env: Readonly<Record<string, string | undefined>>): AwsBackendOptions {
  return { revisionHints: createRevisionHintFile(revisionHintFilePath(env)) };
}

/**
 * `backend` building from `repositoryDir`, for backends that build on this machine (the service
 * hands each release the mirror its commit was fetched into); any other backend as it is.
 */
export function backendAtRepository(backend: Backend, repositoryDir: string): Backend {
  const local = backend as Partial<LocalBackend>;
  return typeof local.atRepository === "function" ? local.atRepository(repositoryDir) : backend;
}
