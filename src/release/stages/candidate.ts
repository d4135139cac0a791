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

/**
 * Stage candidate: register `<name>-canary` — never the production name — once per release.
 * `carried`: registered again over the release's candidate that retention deregistered, with its
 * canary record.
 */
export async function registerCandidate(
  ctx: EngineContext,
  input: CandidateInput,
): Promise<{ revision: JobDefinitionRevision; reused: boolean; carried: boolean }> {
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
  // Looked for once (once found), however often the registration is tried. An image new to this
  // run had no candidate before it: nothing was deregistered.
  let earlier: { found: JobDefinitionRevision | undefined } | undefined;
  let carried = false;
  const { value, created } = await findOrCreate(
    ctx,
    () => findCandidate(ctx, input.spec, input.imageUri, input.releaseId, input.imageIsNew !== true),
    async (): Promise<JobDefinitionRevision> => {
      earlier ??= { found: input.imageIsNew === true ? undefined : await deregisteredCandidate(ctx, input.spec, input.imageUri, input.releaseId) };
      const record = canaryRecordOf(earlier.found);
      carried = Object.keys(record).length > 0;
      const registeredTags = { ...tags, ...record };
      const registered = await platform.registerJobDefinition(name, body, registeredTags);
      return { name, ...registered, body, tags: registeredTags };
    },
  );
  return { revision: value, reused: !created, carried: created && carried };
}

/**
 * The release's candidate as retention left it, deregistered, when the release runs again (a
 * re-run, `--retry`). Batch keeps a deregistered revision describable for 180 days: the listing
 * reads those of the name, and is paid only when the image was tagged before this run and no
 * ACTIVE candidate was found.
 */
async function deregisteredCandidate(ctx: EngineContext, spec: PipelineSpec, imageUri: string, releaseId: string): Promise<JobDefinitionRevision | undefined> {
  const hash = specHash(jobDefinitionBody(spec, imageUri));
  const revisions = await ctx.backend.platform.listJobDefinitionRevisions(candidateName(spec), "INACTIVE");
  return revisions.find((r) => r.tags[TAG.release] === releaseId && r.tags[TAG.specHash] === hash);
}

/** The tags in which a candidate records its canary: verdict, attempt, job, and the jobs batchship stopped. */
const CANARY_RECORD = [TAG.canary, TAG.canaryAttempt, TAG.canaryJob, TAG.stoppedPrimary, TAG.stoppedFallback] as const;

/**
 * What a candidate records of its canary. Carried onto the release's candidate registered again,
 * it keeps a passed canary from running again (its job may be gone from Batch, which keeps a
 * finished job about 7 days), and lets `--retry` start the attempt after the last one instead of
 * finding that attempt's job by its name.
 */
function canaryRecordOf(candidate: JobDefinitionRevision | undefined): Record<string, string> {
  if (candidate === undefined) return {};
  return Object.fromEntries(CANARY_RECORD.flatMap((key) => (candidate.tags[key] === undefined ? [] : [[key, candidate.tags[key]]])));
}
