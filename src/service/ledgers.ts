import { join } from "node:path";
import { configRepositoryOf } from "../git/config-repository.js";
import { ledgerForSpec } from "../git/ledger-for-spec.js";
import type { ReleaseLedger } from "../release/gitops/ledger.js";
import type { PipelineSpec } from "../spec/schema.js";

export type LedgerFor = (spec: PipelineSpec) => Promise<ReleaseLedger | undefined>;

/**
 * One ledger per records location for the service's lifetime, so workers and reconciles of one
 * pipeline share a working clone (and its lock). Working clones live in the data dir unless
 * BATCHSHIP_CACHE_DIR says otherwise. A spec without `promotion.gitops.repository` keeps its
 * records in the config repository: the origin of the checkout `--pipelines` is in.
 */
export function createLedgers(options: {
  env: Readonly<Record<string, string | undefined>>;
  dataDir: string;
  pipelinesDir: string;
  configOrigin: () => string | undefined;
}): LedgerFor {
  const env = { ...options.env, BATCHSHIP_CACHE_DIR: options.env.BATCHSHIP_CACHE_DIR || options.dataDir };
  const ledgers = new Map<string, Promise<ReleaseLedger | undefined>>();
  return (spec) => {
    if (spec.promotion.gitops === undefined) return Promise.resolve(undefined);
    const origin = options.configOrigin();
    const key = JSON.stringify([spec.promotion.gitops, spec.promotion.gitops.repository === undefined ? origin : null]);
    let ledger = ledgers.get(key);
    if (ledger === undefined) {
      // Without a known origin, ledgerForSpec asks the checkout again and explains what is missing.
      const from = { ...(origin === undefined ? {} : { defaultRepository: origin }), pipelineFile: join(options.pipelinesDir, `${spec.name}.yml`) };
      ledger = ledgerForSpec(spec, from, env);
      ledgers.set(key, ledger);
      ledger.catch(() => ledgers.delete(key));
    }
    return ledger;
  };
}

/** The config checkout's origin URL, or undefined when it has none (then only specs naming their repository use GitOps). */
export async function configOriginOf(pipelinesDir: string): Promise<string | undefined> {
  try {
    return await configRepositoryOf(join(pipelinesDir, "pipeline.yml"));
  } catch {
    return undefined;
  }
}
