import { z } from "zod";

/**
 * The canary's SubmitJob members for real queues: fair-share scheduling and tags on its tasks.
 * Each is SubmitJob's member of the same name (src/aws/spec-sdk-parity.ts ties them).
 */
export const CanarySubmission = z.strictObject({
  shareIdentifier: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,255}$/, "must be up to 255 letters, digits and '_'")
    .optional()
    .describe("Fair-share identifier; required by queues with a fair-share scheduling policy, refused by others"),
  schedulingPriorityOverride: z
    .number()
    .int()
    .min(0)
    .max(9999)
    .optional()
    .describe("Scheduling priority on a fair-share queue, 0-9999 (higher runs first)"),
  propagateTags: z
    .boolean()
    .optional()
    .describe("Copy the canary job's tags (batchship's and jobDefinition.tags) to its ECS tasks"),
});
