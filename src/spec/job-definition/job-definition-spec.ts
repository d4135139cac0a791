import { z } from "zod";
import { whenFieldsValid } from "../when-fields-valid.js";
import { checkJobDefinition, KIND_KEYS } from "./checks.js";
import { ContainerPropertiesSpec } from "./container-properties.js";
import { EcsPropertiesSpec } from "./ecs-properties.js";
import { EksPropertiesSpec } from "./eks-properties.js";
import { setByBatchship, stringMap, wholeNumber } from "./fields.js";
import { NodePropertiesSpec } from "./node-properties.js";
import { ConsumableResourcePropertiesSpec, JobTimeoutSpec, RetryStrategySpec } from "./retry-and-timeout.js";
import { JobDefinitionTagsSpec } from "./tags.js";

// The production name, with room for the "-canary" suffix within Batch's 128 characters.
const JOB_DEFINITION_NAME = /^[A-Za-z0-9_-]{1,121}$/;

/**
 * The job definition: RegisterJobDefinition's request, member for member, plus batchship's own
 * `name` and `platform`. Batch's `jobDefinitionName` and `type` are set by batchship (the name
 * from `name`, the type from the kind of properties). Exactly one kind of properties is given;
 * none means a container job whose command is the image's own.
 *
 * To bring in a member the SDK gained: add it here or to the shape in this folder that holds it
 * (src/aws/spec-sdk-parity.ts names what is missing), with its documented limits, then
 * `npm run schema`; the candidate body (src/release/job-definition.ts) passes it on as written.
 */
export const JobDefinitionSpec = z
  .strictObject({
    name: z
      .string()
      .regex(JOB_DEFINITION_NAME, "must be 1-121 letters, digits, '-' or '_' (the candidate adds '-canary')")
      .describe("Production job definition name; candidates are registered as <name>-canary"),
    jobDefinitionName: setByBatchship("is set by batchship: write the production name as jobDefinition.name"),
    type: setByBatchship("is set by batchship from the kind of properties (nodeProperties: multinode, else container)"),
    platformCapabilities: z
      .array(z.enum(["EC2", "FARGATE"]))
      .min(1)
      .max(1)
      .optional()
      .describe("EC2 (the default), FARGATE or MANAGED_INSTANCES (ECS Managed Instances), exactly one; leave out with eksProperties"),
    containerProperties: ContainerPropertiesSpec.optional(),
    ecsProperties: EcsPropertiesSpec.optional(),
    eksProperties: EksPropertiesSpec.optional(),
    nodeProperties: NodePropertiesSpec.optional(),
    retryStrategy: RetryStrategySpec.optional(),
    timeout: JobTimeoutSpec.optional(),
    parameters: stringMap("parameters").default({}).describe("Default job parameters, referred to as Ref::name"),
    schedulingPriority: wholeNumber(0, 9999)
      .optional()
      .describe("Scheduling priority on fair-share queues, 0-9999 (higher runs first)"),
    propagateTags: z.boolean().optional().describe("Copy the job's and the definition's tags to its ECS tasks"),
    consumableResourceProperties: ConsumableResourcePropertiesSpec.optional(),
    platform: z
      .enum(["batch", "local"])
      .default("batch")
      .describe(
        "Where revisions are registered and the canary runs: batch (AWS Batch) or local (containers on this machine, revisions in the local state store); local needs build.backend: local",
      ),
    tags: JobDefinitionTagsSpec.default({}).describe(
      "Tags on every registered revision; keys starting with 'batchship:' are reserved",
    ),
  })
  .superRefine(checkJobDefinition, {
    when: whenFieldsValid(...KIND_KEYS, "platformCapabilities", "parameters", "platform"),
  })
  .describe("The AWS Batch job definition to release");

export type JobDefinitionSpec = z.infer<typeof JobDefinitionSpec>;
