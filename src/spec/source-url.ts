/**
 * What `source.url` may be: a clone URL git reaches over https or ssh (`ssh://` or the scp-like
 * `git@host:owner/app.git`), or a `file://` URL, which only a service allowed to read this
 * machine's repositories fetches (BATCHSHIP_ALLOW_FILE_SOURCES). Never credentials: a URL is
 * stored, logged and shown in statuses, while a token goes to git through its environment and
 * SSH through its agent. Other transports are refused: plain http and git:// are unauthenticated
 * and unencrypted, and git's `ext::` runs a command.
 */
export type SourceTransport = "https" | "ssh" | "file";

const SCP_LIKE = /^(?:([^@/\s]+)@)?([A-Za-z0-9.-]+):(?!\/\/|:)([^\s]+)$/;
const CREDENTIALS_HINT = "the service sends BATCHSHIP_GITHUB_TOKEN as a header, and SSH uses its agent";

/** The URL's transport, or why it is refused. */
export function parseSourceUrl(url: string): { transport: SourceTransport } | { problem: string } {
  if (/[\s\0]/.test(url) || url.startsWith("-")) return { problem: "must be a clone URL without spaces, control characters or a leading '-'" };
  const scp = SCP_LIKE.exec(url);
  if (scp !== null && !url.includes("://")) {
    if (scp[1]?.includes(":")) return { problem: `must not hold a password: ${CREDENTIALS_HINT}` };
    return { transport: "ssh" };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: "must be an https, ssh or file URL (https://github.com/acme/app.git, git@github.com:acme/app.git)" };
  }
  switch (parsed.protocol) {
    case "https:":
      if (parsed.username !== "" || parsed.password !== "") return { problem: `must not hold credentials (user or token before '@'): ${CREDENTIALS_HINT}` };
      return parsed.hostname === "" ? { problem: "must name a host" } : { transport: "https" };
    case "ssh:":
    case "git+ssh:":
    case "ssh+git:":
      if (parsed.password !== "") return { problem: `must not hold a password: ${CREDENTIALS_HINT}` };
      return parsed.hostname === "" ? { problem: "must name a host" } : { transport: "ssh" };
    case "file:":
      if (parsed.username !== "" || parsed.password !== "" || (parsed.host !== "" && parsed.host !== "localhost")) {
        return { problem: "must be a file URL of this machine (file:///srv/git/app.git)" };
      }
      return { transport: "file" };
    default:
      return { problem: `must be an https, ssh or file URL, not ${parsed.protocol.replace(/:$/, "")}` };
  }
}
