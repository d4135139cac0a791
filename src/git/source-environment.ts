/**
 * The ambient variables git keeps when it fetches an app repository or pulls the pipelines
 * checkout: where git and its config are, and how a private source is reached — an SSH agent or
 * command, a proxy, a company CA. Nothing else of the service's environment (its tokens, AWS
 * credentials) reaches git or the ssh it starts. A rule kept here once for every such git.
 */
const PASSED_THROUGH = [
  "PATH",
  "HOME",
  "TMPDIR",
  "SystemRoot",
  "LANG",
  "LC_ALL",
  "XDG_CONFIG_HOME",
  // SSH: the agent holding the deploy key, or the command that finds it.
  "SSH_AUTH_SOCK",
  "GIT_SSH_COMMAND",
  "GIT_SSH",
  // Proxies, as curl reads them (it ignores an upper-case HTTP_PROXY; git's own docs list both).
  "http_proxy",
  "HTTP_PROXY",
  "https_proxy",
  "HTTPS_PROXY",
  "all_proxy",
  "ALL_PROXY",
  "no_proxy",
  "NO_PROXY",
  // A proxy or a server with a company CA.
  "GIT_SSL_CAINFO",
  "GIT_SSL_CAPATH",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
] as const;

const SSH_COMMANDS = ["GIT_SSH_COMMAND", "GIT_SSH"];

/** What simple-git needs to run git with exactly `env`. */
export interface GitProcessEnvironment {
  env: Record<string, string>;
  /** Git's own variables in `env`: simple-git refuses those it is not told about. */
  allow: string[];
  unsafe: { allowUnsafeSshCommand?: boolean; allowUnsafeConfigEnvCount?: boolean };
}

/** The passed-through ambient variables plus `own` (batchship's settings for git, which win). */
export function sourceGitEnvironment(ambient: Readonly<Record<string, string | undefined>>, own: Record<string, string>): GitProcessEnvironment {
  const env: Record<string, string> = {};
  for (const key of PASSED_THROUGH) {
    const value = ambient[key];
    if (value !== undefined && value !== "") env[key] = value;
  }
  Object.assign(env, own);
  const keys = Object.keys(env);
  return {
    env,
    allow: keys.filter((key) => key.toUpperCase().startsWith("GIT_")),
    unsafe: {
      ...(keys.some((key) => SSH_COMMANDS.includes(key)) ? { allowUnsafeSshCommand: true } : {}),
      ...(keys.includes("GIT_CONFIG_COUNT") ? { allowUnsafeConfigEnvCount: true } : {}),
    },
  };
}
