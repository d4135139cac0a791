import { BatchshipError } from "../errors.js";
import type { Registry } from "../release/ports.js";
import { parseImageReference, registryBaseUrl, type ImageReference } from "./image-reference.js";

type Fetch = typeof fetch;

// Image indexes too: a multi-arch build pushes one, and its digest is what a pull resolves.
const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");
const TIMEOUT_MS = 10_000;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const REGISTRY_HINT =
  "start a registry (docker-registry with http.addr 127.0.0.1:5000, or `docker run -p 5000:5000 registry:2`) or fix image.repository";

/**
 * The Registry port over the OCI distribution API. Repositories need no creating: a registry
 * makes one on the first push. The digest is the registry's own `Docker-Content-Digest`, the
 * way ECR's DescribeImages gives it.
 */
export function createOciRegistry(insecureRegistries: readonly string[], fetchImpl: Fetch = fetch): Registry {
  async function call(
    ref: ImageReference,
    path: string,
    method: "GET" | "HEAD" | "PUT",
    operation: string,
    upload?: { body: Uint8Array; contentType: string },
  ): Promise<Response> {
    const url = `${registryBaseUrl(ref)}${path}`;
    try {
      return await fetchImpl(url, {
        method,
        headers: upload === undefined ? { accept: MANIFEST_TYPES } : { accept: MANIFEST_TYPES, "content-type": upload.contentType },
        ...(upload === undefined ? {} : { body: upload.body }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown } }).cause;
      const code = typeof cause?.code === "string" ? cause.code : undefined;
      // Refused or unknown host: nothing listens there, and retrying will not change that.
      const unreachable = code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN";
      const reason = code ?? (error instanceof Error ? error.message : String(error));
      throw new BatchshipError("ENVIRONMENT", `Could not ${operation}: registry ${ref.host} is unreachable (${reason})`, {
        retryable: !unreachable,
        hint: REGISTRY_HINT,
        cause: error,
      });
    }
  }

  function unexpected(ref: ImageReference, operation: string, response: Response): BatchshipError {
    if (response.status === 401 || response.status === 403) {
      return new BatchshipError("ENVIRONMENT", `Could not ${operation}: registry ${ref.host} requires authentication`, {
        hint: "the local backend speaks to registries without credentials; use a registry that allows anonymous push and pull",
      });
    }
    return new BatchshipError("ENVIRONMENT", `Could not ${operation}: registry ${ref.host} answered HTTP ${response.status}`, {
      retryable: response.status === 429 || response.status >= 500,
      hint: REGISTRY_HINT,
    });
  }

  async function digestOf(ref: ImageReference, uri: string, tag: string): Promise<string | undefined> {
    if (!TAG.test(tag)) throw new BatchshipError("SPEC_INVALID", `Invalid image tag "${tag}"`);
    const operation = `read the manifest of ${uri}:${tag}`;
    const response = await call(ref, `${ref.name}/manifests/${tag}`, "HEAD", operation);
    if (response.status === 404) return undefined;
    if (!response.ok) throw unexpected(ref, operation, response);
    const digest = response.headers.get("docker-content-digest");
    if (digest === null || !DIGEST.test(digest)) {
      throw new BatchshipError("ENVIRONMENT", `Could not ${operation}: registry ${ref.host} sent no Docker-Content-Digest`, {
        hint: "use a registry implementing the OCI distribution API (docker-registry, registry:2, zot, Harbor)",
      });
    }
    return digest;
  }

  return {
    async ensureRepository(repository) {
      const ref = parseImageReference(repository, insecureRegistries);
      const operation = `reach the image registry ${ref.host}`;
      const response = await call(ref, "", "GET", operation);
      await response.body?.cancel();
      // 401 is fine here: the API exists; a push would then report the authentication problem.
      if (!response.ok && response.status !== 401) throw unexpected(ref, operation, response);
      return { name: ref.name, uri: `${ref.host}/${ref.name}` };
    },

    async findDigest(repository, tag) {
      return digestOf(parseImageReference(repository.uri, insecureRegistries), repository.uri, tag);
    },

    async findTags(repository, tags) {
      const ref = parseImageReference(repository.uri, insecureRegistries);
      const operation = `list the tags of ${repository.uri}`;
      // One listing instead of a HEAD per candidate; only the tags present are then resolved.
      const response = await call(ref, `${ref.name}/tags/list`, "GET", operation);
      const found = new Map<string, string>();
      if (response.status === 404) {
        await response.body?.cancel();
        return found;
      }
      if (!response.ok) throw unexpected(ref, operation, response);
      const listed = new Set(((await response.json()) as { tags?: string[] | null }).tags ?? []);
      for (const tag of tags) {
        if (!listed.has(tag)) continue;
        const digest = await digestOf(ref, repository.uri, tag);
        if (digest !== undefined) found.set(tag, digest);
      }
      return found;
    },

    async addTags(repository, digest, tags) {
      if (!DIGEST.test(digest)) throw new BatchshipError("USAGE", `Invalid image digest "${digest}"`);
      const ref = parseImageReference(repository.uri, insecureRegistries);
      const operation = `read the manifest of ${repository.uri}@${digest}`;
      const response = await call(ref, `${ref.name}/manifests/${digest}`, "GET", operation);
      if (response.status === 404) {
        throw new BatchshipError("ENVIRONMENT", `Could not tag image ${repository.uri}@${digest}: the registry has no such image`, {
          hint: "the image was deleted; release with --rebuild to build it again",
        });
      }
      if (!response.ok) throw unexpected(ref, operation, response);
      // The very bytes, so the manifest under the new tag has the same digest.
      const body = new Uint8Array(await response.arrayBuffer());
      const contentType = response.headers.get("content-type") ?? "application/vnd.oci.image.manifest.v1+json";
      for (const tag of tags) {
        // A registry lets a push move a tag; batchship never does.
        const current = await digestOf(ref, repository.uri, tag);
        if (current === digest) continue;
        if (current !== undefined) {
          throw new BatchshipError(
            "ENVIRONMENT",
            `Could not tag image ${repository.uri}@${digest} as ${tag}: the tag names another image (${current}), and batchship never moves a tag`,
            { hint: "image.tags must name the commit: include {sha} or {shortSha} in every tag" },
          );
        }
        const put = `tag image ${repository.uri}@${digest} as ${tag}`;
        const answer = await call(ref, `${ref.name}/manifests/${tag}`, "PUT", put, { body, contentType });
        await answer.body?.cancel();
        if (!answer.ok) throw unexpected(ref, put, answer);
      }
    },
  };
}
