import { join } from "node:path";
import { cacheDir } from "../cache-dir.js";
import type { ReleaseLedger } from "../release/gitops/ledger.js";
import type { PipelineSpec } from "../spec/schema.js";
import { configRepositoryOf } from "./config-repository.js";
import { readGitCredentials } from "./git-credentials.js";
import { createGitReleaseLedger } from "./git-release-ledger.js";

/**
 * The ledger a spec asks for (`promotion.gitops`), or undefined when it asks for none. Reads
 * the environment it is given, once: BATCHSHIP_GIT_TOKEN / BATCHSHIP_GIT_USERNAME for
 * credentials, BATCHSHIP_CACHE_DIR (else XDG_CACHE_HOME/batchship, else ~/.cache/batchship) for
 * the working clones.
 */
export async function ledgerForSpec(
  spec: PipelineSpec,
  /**
   * Where the spec came from, for the default repository (the config repository): the service
   * knows its clone URL; the CLI and the Action know the pipeline file (a string is one), whose
   * repository's origin it is.
   */
  from: string | undefined | { defaultRepository?: string; pipelineFile?: string },
  env: Readonly<Record<string, string | undefined>>,
): Promise<ReleaseLedger | undefined> {
  const gitops = spec.promotion.gitops;
  if (gitops === undefined) return undefined;
  const source = typeof from === "object" ? from : from === undefined ? {} : { pipelineFile: from };
  const repository = gitops.repository ?? source.defaultRepository ?? (await configRepositoryOf(source.pipelineFile ?? "."));
  return createGitReleaseLedger({
    repository,
    branch: gitops.branch,
    path: gitops.path,
    cacheDir: join(cacheDir(env), "ledger"),
    credentials: readGitCredentials(env),
    ambientEnv: env,
  });
}
