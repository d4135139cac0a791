import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { findOrCreate } from "../find-or-create.js";
import { candidateName, findBySpecHash, jobDefinitionBody, specHash } from "../job-definition.js";
import type { JobDefinitionRevision } from "../ports.js";
import { TAG } from "../tags.js";

export interface CandidateInput {
  spec: PipelineSpec;
  releaseId: string;
  commit: string;
  imageUri: string;
  digest: string;
}

/**
 * Looks for the candidate revision of this spec and image: a revision under `<name>-canary`
 * whose spec-hash tag matches. Used by the release and, later and elsewhere, by `promote`.
 */
export async function findCandidate(
  ctx: EngineContext,
  spec: PipelineSpec,
  imageUri: string,
): Promise<JobDefinitionRevision | undefined> {
  const hash = specHash(jobDefinitionBody(spec, imageUri));
  return findBySpecHash(await ctx.backend.platform.listJobDefinitionRevisions(candidateName(spec)), hash);
}

/** Stage candidate: register `<name>-canary` — never the production name — once per spec. */
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
    () => findCandidate(ctx, input.spec, input.imageUri),
    async (): Promise<JobDefinitionRevision> => {
      const registered = await platform.registerJobDefinition(name, body, tags);
      return { name, ...registered, body, tags };
    },
  );
  return { revision: value, reused: !created };
}
