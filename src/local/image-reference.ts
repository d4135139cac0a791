import { BatchshipError } from "../errors.js";

export interface ImageReference {
  /** `127.0.0.1:5000` */
  host: string;
  /** Repository path inside the registry: `etl`, `team/etl`. */
  name: string;
  /** Plain HTTP and no TLS verification: loopback, or listed in BATCHSHIP_INSECURE_REGISTRIES. */
  insecure: boolean;
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;
const HOST = /^[a-z0-9.-]+(?::[0-9]{1,5})?$|^\[[0-9a-f:]+\](?::[0-9]{1,5})?$/i;
const NAME = /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/;

/**
 * The local backend pushes to a registry named in `image.repository` itself: the first path
 * segment must be a host (with a dot or a port, or localhost), as docker reads references.
 */
export function parseImageReference(repository: string, insecureRegistries: readonly string[]): ImageReference {
  const slash = repository.indexOf("/");
  const host = slash < 0 ? "" : repository.slice(0, slash);
  const name = slash < 0 ? repository : repository.slice(slash + 1);
  const looksLikeHost = host !== "" && (/[.:]/.test(host) || host === "localhost" || host.startsWith("["));
  if (!looksLikeHost || !HOST.test(host) || !NAME.test(name)) {
    throw new BatchshipError(
      "SPEC_INVALID",
      `image.repository ${repository} does not name a registry: the local backend needs host:port/name`,
      { hint: "e.g. 127.0.0.1:5000/etl for a registry on this machine" },
    );
  }
  const insecure = LOOPBACK.test(host) || insecureRegistries.includes(host);
  return { host, name, insecure };
}

export function registryBaseUrl(ref: Pick<ImageReference, "host" | "insecure">): string {
  return `${ref.insecure ? "http" : "https"}://${ref.host}/v2/`;
}
