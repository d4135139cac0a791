import type { RegisterJobDefinitionCommandInput, SubmitJobCommandInput } from "@aws-sdk/client-batch";
import type { z } from "zod";
import type { CanarySubmission } from "../spec/canary-submission.js";
import type { JobDefinitionSpec } from "../spec/schema.js";

/**
 * The pipeline spec's job definition and the AWS SDK's RegisterJobDefinition request, member for
 * member at every depth. When the SDK gains a member (an upgrade of @aws-sdk/client-batch) or
 * the spec has one the SDK lacks, `npx tsc` fails here and names it, e.g.
 *   Type 'true' is not assignable to type '"jobDefinition.containerProperties: the spec lacks newField"'.
 * Bring the member in where the message points (the shapes live in src/spec/job-definition/,
 * with the limits Batch documents for it) and run `npm run schema`; test/spec/sdk-shape.test.ts
 * checks the same against the SDK's runtime model.
 */

type Unwrap<T> = T extends readonly (infer Item)[] ? Unwrap<Item> : Exclude<T, undefined>;
/** A structure (not a list, a map or a scalar). */
type IsStructure<T> = [T] extends [never]
  ? false
  : T extends object
    ? T extends readonly unknown[]
      ? false
      : string extends keyof T
        ? false
        : true
    : false;

type Mismatch<Sdk, Spec, Path extends string> =
  IsStructure<Sdk> extends true
    ?
        | (Exclude<keyof Sdk, keyof Spec> extends never ? never : `${Path}: the spec lacks ${Exclude<keyof Sdk, keyof Spec> & string}`)
        | (Exclude<keyof Spec, keyof Sdk> extends never ? never : `${Path}: the SDK has no ${Exclude<keyof Spec, keyof Sdk> & string}`)
        | { [K in keyof Sdk & keyof Spec]-?: Mismatch<Unwrap<Sdk[K]>, Unwrap<Spec[K]>, `${Path}.${K & string}`> }[keyof Sdk & keyof Spec]
    : never;

type Parity<Sdk, Spec, Path extends string> = [Mismatch<Sdk, Spec, Path>] extends [never] ? true : Mismatch<Sdk, Spec, Path>;

/** batchship's own members of jobDefinition, which RegisterJobDefinition does not have. */
type BatchshipOnly = "name" | "platform";

export const jobDefinitionMatchesSdk: Parity<
  RegisterJobDefinitionCommandInput,
  Omit<z.input<typeof JobDefinitionSpec>, BatchshipOnly>,
  "jobDefinition"
> = true;

/** Each member of canary's SubmitJob settings is SubmitJob's member of that name and type. */
export const canarySubmissionMatchesSdk: z.output<typeof CanarySubmission> extends Pick<
  SubmitJobCommandInput,
  keyof z.output<typeof CanarySubmission>
>
  ? true
  : false = true;
