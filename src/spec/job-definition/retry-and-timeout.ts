import { z } from "zod";
import { nonEmpty, wholeNumber } from "./fields.js";

// Batch: up to 512 characters; letters, digits, '.', ':', white space (tabs too), and a final
// '*' as a wildcard.
const REASON_PATTERN = /^(?=[\s\S]{1,512}$)[A-Za-z0-9.:\s]*\*?$/;
// Batch: up to 512 digits, with a final '*' as a wildcard.
const EXIT_CODE_PATTERN = /^(?=[\s\S]{1,512}$)[0-9]*\*?$/;

export const EvaluateOnExitSpec = z.strictObject({
  onStatusReason: z
    .string()
    .min(1)
    .regex(REASON_PATTERN, "may hold letters, digits, '.', ':', spaces and end with '*', at most 512 characters")
    .optional(),
  onReason: z
    .string()
    .min(1)
    .regex(REASON_PATTERN, "may hold letters, digits, '.', ':', spaces and end with '*', at most 512 characters")
    .optional(),
  onExitCode: z
    .string()
    .min(1)
    .regex(EXIT_CODE_PATTERN, "may hold digits only and end with '*', at most 512 characters")
    .optional(),
  action: z.enum(["RETRY", "EXIT"]),
});

export const RetryStrategySpec = z
  .strictObject({
    attempts: wholeNumber(1, 10).optional().describe("Attempts per job, 1-10"),
    evaluateOnExit: z.array(EvaluateOnExitSpec).max(5).optional().describe("Up to 5 conditions, first match wins"),
  })
  .describe("AWS Batch retryStrategy");

export const JobTimeoutSpec = z
  .strictObject({
    attemptDurationSeconds: wholeNumber(60).optional().describe("Per attempt, at least 60 seconds"),
  })
  .describe("AWS Batch timeout");

export const ConsumableResourcePropertiesSpec = z.strictObject({
  consumableResourceList: z
    .array(z.strictObject({ consumableResource: nonEmpty().optional(), quantity: wholeNumber(1).optional() }))
    .optional(),
});
