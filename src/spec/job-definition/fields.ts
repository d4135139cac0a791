import { z } from "zod";

/**
 * Building blocks of the RegisterJobDefinition schemas. Each shape in this folder lists every
 * member the AWS SDK's request type has — src/aws/spec-sdk-parity.ts fails the type check when
 * the two disagree — so an unknown key is always a typo, never a field batchship forgot.
 */

export const text = () => z.string();
export const nonEmpty = () => z.string().min(1, "must not be empty");
export const flag = () => z.boolean();
export const wholeNumber = (min?: number, max?: number) => {
  let schema = z.number().int();
  if (min !== undefined) schema = schema.min(min);
  if (max !== undefined) schema = schema.max(max);
  return schema;
};
export const stringList = () => z.array(z.string());
export const stringMap = (what: string) =>
  z.record(z.string(), z.string(), { error: `${what} must map names to strings` });

/** A member the SDK has but the spec must leave out: batchship sets it, or it belongs elsewhere. */
export const setByBatchship = (message: string) => z.never({ error: message }).optional();

export const KeyValuePairSpec = z.strictObject({
  name: z.string().min(1).optional(),
  value: z.string().optional(),
});

export const SecretSpec = z.strictObject({
  name: nonEmpty().describe("Environment variable name the secret is exposed as"),
  valueFrom: nonEmpty().describe("ARN of a Secrets Manager secret or an SSM parameter"),
});

/** Names Batch's three places for Ref::name substitution can refer to. */
export const REF_PATTERN = /Ref::([A-Za-z0-9_-]+)/g;
