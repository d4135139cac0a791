import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where the CLI and the Action keep what may be thrown away (GitOps working clones, saved
 * revision hints): BATCHSHIP_CACHE_DIR, else XDG_CACHE_HOME/batchship, else ~/.cache/batchship.
 */
export function cacheDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.BATCHSHIP_CACHE_DIR) return env.BATCHSHIP_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "batchship");
  return join(env.HOME ?? homedir(), ".cache", "batchship");
}
