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

/**
 * The config checkout's origin URL, or undefined when it has none (then only specs naming their
 * repository use GitOps). Without credentials: a checkout cloned as https://user:TOKEN@host/...
 * would put the token in logs and in the ledger's working clone. The ledger's git gets
 * BATCHSHIP_GIT_TOKEN (or SSH) instead, as for any records repository.
 */
export async function configOriginOf(pipelinesDir: string): Promise<string | undefined> {
  return (await readConfigOrigin(pipelinesDir)).url;
}

/** The origin without credentials, and whether it had any (which batchship then does not use). */
export async function readConfigOrigin(pipelinesDir: string): Promise<{ url: string | undefined; hadCredentials: boolean }> {
  try {
    const raw = await configRepositoryOf(join(pipelinesDir, "pipeline.yml"));
    const url = withoutCredentials(raw);
    return { url, hadCredentials: url !== raw };
  } catch {
    return { url: undefined, hadCredentials: false };
  }
}

/**
 * A URL without the password in its userinfo, and for HTTP(S) without the user name too (a token
 * alone works as one). An SSH login name (ssh://git@host/...) stays: it is no secret and SSH
 * needs it; scp-like `git@host:path` has no room for a password and is returned as is.
 */
export function withoutCredentials(url: string): string {
  // The userinfo ends at the last @ before the path (an unencoded @ in a password included).
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)@/i.exec(url);
  if (match === null) return url;
  const scheme = match[1] ?? "";
  const user = /^https?:/i.test(scheme) ? "" : (match[2] ?? "").split(":")[0];
  return `${scheme}${user ? `${user}@` : ""}${url.slice(match[0].length)}`;
}
