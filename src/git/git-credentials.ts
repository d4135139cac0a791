import { stalledTransferEnv } from "./stalled-transfer.js";

/**
 * Git credentials for the release ledger come from the environment only. A token is handed to
 * git as an HTTP header through GIT_CONFIG_* variables — never in the clone URL, never on the
 * command line (where `ps` would show it), never in a file — and is redacted from every message.
 * Without a token, git's own configuration applies: an SSH agent (SSH_AUTH_SOCK) works as is.
 */

export interface GitCredentials {
  /** BATCHSHIP_GIT_TOKEN: a GitHub token (or any host's token accepted as HTTP basic auth). */
  token?: string;
  /** BATCHSHIP_GIT_USERNAME: the basic-auth user sent with the token; GitHub ignores it. */
  username?: string;
}

export function readGitCredentials(env: Readonly<Record<string, string | undefined>>): GitCredentials {
  const token = env.BATCHSHIP_GIT_TOKEN?.trim();
  const username = env.BATCHSHIP_GIT_USERNAME?.trim();
  return { ...(token ? { token } : {}), ...(username ? { username } : {}) };
}

/** Git's own variables batchship sets; simple-git refuses GIT_* variables it is not told about. */
export const LEDGER_GIT_ENV_KEYS = ["GIT_TERMINAL_PROMPT", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", ...Object.keys(stalledTransferEnv())];
/** Ways a user routes git over SSH that are worth keeping from the ambient environment. */
const PASSED_THROUGH = ["GIT_SSH_COMMAND", "GIT_SSH"];
/** Programs git could be made to run that a ledger write never needs. */
const DROPPED = ["EDITOR", "VISUAL", "PAGER", "PREFIX", "SSH_ASKPASS"];

/** simple-git's switches for the guarded variables batchship itself sets or passes through. */
export interface LedgerGitUnsafe {
  allowUnsafeConfigEnvCount?: boolean;
  allowUnsafeSshCommand?: boolean;
}

/**
 * The environment git runs with: the ambient one without git's own variables (which could point
 * git at another repository or config), plus ours. Never prompts: a missing credential fails fast.
 */
export function ledgerGitEnvironment(
  ambient: Readonly<Record<string, string | undefined>>,
  credentials: GitCredentials,
): { env: Record<string, string>; allow: string[]; unsafe: LedgerGitUnsafe } {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(ambient)) {
    if (value === undefined) continue;
    if (key.toUpperCase().startsWith("GIT_") && !PASSED_THROUGH.includes(key)) continue;
    if (DROPPED.includes(key.toUpperCase())) continue;
    env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  Object.assign(env, stalledTransferEnv());
  if (credentials.token !== undefined) {
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = "http.extraHeader";
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic(credentials)}`;
  }
  const passed = PASSED_THROUGH.filter((k) => env[k] !== undefined);
  const allow = [...LEDGER_GIT_ENV_KEYS, ...passed];
  const unsafe: LedgerGitUnsafe = {
    ...(credentials.token === undefined ? {} : { allowUnsafeConfigEnvCount: true }),
    ...(passed.length === 0 ? {} : { allowUnsafeSshCommand: true }),
  };
  return { env, allow, unsafe };
}

/** Removes the token (plain and encoded) and any user:password in URLs from a message. */
export function redactSecrets(text: string, credentials: GitCredentials): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
  if (credentials.token !== undefined) {
    for (const secret of [credentials.token, basic(credentials)]) out = out.split(secret).join("***");
  }
  return out;
}

/** A clone URL as it may be shown: without user or password. */
export function displayUrl(url: string): string {
  return url.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i, "$1");
}

function basic(credentials: GitCredentials): string {
  return Buffer.from(`${credentials.username ?? "x-access-token"}:${credentials.token ?? ""}`).toString("base64");
}
