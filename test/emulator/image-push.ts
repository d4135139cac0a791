import { createHash } from "node:crypto";
import { motoJsonCall } from "./moto-client.js";
import { tagMayMove } from "./tag-mutability.js";

export interface EnvironmentVariable {
  name: string;
  value: string;
  type?: string;
}

export type PushResult = { ok: true; digest: string } | { ok: false; message: string };

/**
 * What batchship's buildspec does after `docker build`: push the image under every tag in
 * IMAGE_TAGS to IMAGE_REPOSITORY_URI, and write any registry cache tag the buildspec names
 * (`--cache-to type=registry,ref=$IMAGE_REPOSITORY_URI:<tag>`), where ECR's tag immutability
 * applies as on AWS. The manifest's layer is derived from the build id, because moto derives
 * the image digest from the layers: each build gets its own digest.
 */
export async function pushBuiltImage(
  motoEndpoint: string,
  buildId: string,
  variables: EnvironmentVariable[],
  buildspec: string,
): Promise<PushResult> {
  const value = (name: string) => variables.find((v) => v.name === name)?.value;
  const uri = value("IMAGE_REPOSITORY_URI");
  const tags = (value("IMAGE_TAGS") ?? "").split(/\s+/).filter(Boolean);
  if (!uri || tags.length === 0) {
    return { ok: false, message: "Error while executing command: docker push. Reason: IMAGE_REPOSITORY_URI and IMAGE_TAGS must be set" };
  }
  const repositoryName = uri.slice(uri.indexOf("/") + 1);
  const pushFailed = (tag: string, why: string): PushResult => ({
    ok: false,
    message: `Error while executing command: docker push ${uri}:${tag}. Reason: exit status 1 (${why})`,
  });

  // moto answers PutImage to a missing repository with an HTML 500; ask first, like `docker push` would learn.
  const repository = await motoJsonCall(motoEndpoint, "ecr", "DescribeRepositories", { repositoryNames: [repositoryName] });
  if (repository.status !== 200) return pushFailed(tags[0] ?? "", errorMessage(repository.json, repository.text));

  const manifest = manifestFor(buildId);
  let digest = "";
  for (const tag of cacheTagsWritten(buildspec)) {
    const put = await putTag(motoEndpoint, repository.json?.repositories?.[0], tag, manifestFor(`cache ${buildId}`));
    if (!put.ok) return pushFailed(tag, put.why);
  }
  for (const tag of tags) {
    const put = await putTag(motoEndpoint, repository.json?.repositories?.[0], tag, manifest);
    if (!put.ok) return pushFailed(tag, put.why);
    digest = put.digest;
  }
  return { ok: true, digest };
}

/** The tags a buildspec's registry cache export rewrites on every build. */
export function cacheTagsWritten(buildspec: string): string[] {
  const refs = buildspec.matchAll(/--cache-to\s+"?type=registry,ref=\$\{?IMAGE_REPOSITORY_URI\}?:([A-Za-z0-9_.-]+)/g);
  return [...refs].map((match) => match[1] ?? "");
}

type PutResult = { ok: true; digest: string } | { ok: false; why: string };

async function putTag(motoEndpoint: string, repository: any, tag: string, manifest: string): Promise<PutResult> {
  const repositoryName = String(repository?.repositoryName);
  const existing = await motoJsonCall(motoEndpoint, "ecr", "DescribeImages", { repositoryName, imageIds: [{ imageTag: tag }] });
  if (existing.status === 200 && !tagMayMove(repository, tag)) {
    // ECR's ImageTagAlreadyExistsException, as docker push reports it.
    return { ok: false, why: `tag invalid: The image tag '${tag}' already exists in the '${repositoryName}' repository and cannot be overwritten because the repository is immutable.` };
  }
  const put = await motoJsonCall(motoEndpoint, "ecr", "PutImage", {
    repositoryName,
    imageTag: tag,
    imageManifest: manifest,
    imageManifestMediaType: "application/vnd.docker.distribution.manifest.v2+json",
  });
  if (put.status !== 200) return { ok: false, why: errorMessage(put.json, put.text) };
  return { ok: true, digest: String(put.json?.image?.imageId?.imageDigest ?? "") };
}

function manifestFor(buildId: string): string {
  const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 1024, digest: sha(`config ${buildId}`) },
    layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 4096, digest: sha(`layer ${buildId}`) }],
  });
}

function errorMessage(json: any, text: string): string {
  return String(json?.message ?? json?.__type ?? text.slice(0, 200));
}
