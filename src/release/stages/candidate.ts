import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { findOrCreate } from "../find-or-create.js";
import { candidateName, jobDefinitionBody, specHash } from "../job-definition.js";
import type { JobDefinitionRevision } from "../ports.js";
import { findRevision } from "../revision-lookup.js";
import { TAG } from "../tags.js";

export interface CandidateInput {
  spec: PipelineSpec;
  releaseId: string;
  commit: string;
  imageUri: string;
  digest: string;
  /**
   * The image got its commit tag in this run: no earlier run of the release got as far as the
   * candidate, so the newest revisions are all there is to look in.
   */
  imageIsNew?: boolean;
}

/**
 * Looks for this release's candidate: a revision under `<name>-canary` tagged with the release
 * and the spec hash. Each release gets its own candidate even when two commits build the same
 * image (a revert, a change outside the build context): the canary verdict and the promotion
 * belong to a release, and sharing a revision would let one release's outcome stand for
 * another's. Used by the release and, later and elsewhere, by `promote`. Looked for in the newest
 * candidate revisions, and in all of them only when `mayBeOlder` and the newest do not hold it.
 */
export async function findCandidate(
  ctx: EngineContext,
  spec: PipelineSpec,
  imageUri: string,
  releaseId: string,
  mayBeOlder = true,
): Promise<JobDefinitionRevision | undefined> {
  const hash = specHash(jobDefinitionBody(spec, imageUri));
  const matches = (r: JobDefinitionRevision) => r.tags[TAG.release] === releaseId && r.tags[TAG.specHash] === hash;
  // Production is looked up next (the order rules, the promotion).
  return (await findRevision(ctx.backend.platform, candidateName(spec), matches, mayBeOlder, { upcoming: spec.jobDefinition.name })).found;
}

/** Stage candidate: register `<name>-canary` — never the production name — once per release. */
export async function registerCandidate(
  ctx: EngineContext,
  input: CandidateInput,
): Promise<{ revision: JobDefinitionRevision; reused: boolean }> {
  const { platform } = ctx.backend;
  const name = candidateName(input.spec);
  const body = jobDefinitionBody(input.spec, input.imageUri);
  const tags = {
    ...input.spec.jobDefinition.tags,
    [TAG.pipeline]: input.spec.name,
    [TAG.commit]: input.commit,
    [TAG.release]: input.releaseId,
    [TAG.specHash]: specHash(body),
    [TAG.imageDigest]: input.digest,
  };
  const { value, created } = await findOrCreate(
    ctx,
    () => findCandidate(ctx, input.spec, input.imageUri, input.releaseId, input.imageIsNew !== true),
    async (): Promise<JobDefinitionRevision> => {
      const registered = await platform.registerJobDefinition(name, body, tags);
      return { name, ...registered, body, tags };
    },
  );
  return { revision: value, reused: !created };
}
