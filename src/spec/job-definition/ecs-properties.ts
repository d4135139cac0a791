import { z } from "zod";
import {
  EphemeralStorageSpec,
  LinuxParametersSpec,
  LogConfigurationSpec,
  MountPointSpec,
  NetworkConfigurationSpec,
  RepositoryCredentialsSpec,
  ResourceRequirementSpec,
  RuntimePlatformSpec,
  UlimitSpec,
  VolumeSpec,
} from "./container-properties.js";
import { flag, KeyValuePairSpec, nonEmpty, SecretSpec, stringList, stringMap, text, wholeNumber } from "./fields.js";

/** ecsProperties: one ECS task of several containers. See container-properties.ts for how to add a member. */

export const TaskContainerPropertiesSpec = z.strictObject({
  command: stringList().optional(),
  dependsOn: z
    .array(
      z.strictObject({
        containerName: nonEmpty().optional().describe("name of another container of this task"),
        condition: z.enum(["START", "COMPLETE", "SUCCESS", "HEALTHY"]).optional(),
      }),
    )
    .optional(),
  environment: z.array(KeyValuePairSpec).optional(),
  essential: flag().optional(),
  firelensConfiguration: z
    .strictObject({ type: z.enum(["fluentd", "fluentbit"]), options: stringMap("options").optional() })
    .optional(),
  image: nonEmpty()
    .optional()
    .describe("Leave out to run the image batchship built (pinned by digest); set it for a sidecar's own image"),
  linuxParameters: LinuxParametersSpec.optional(),
  logConfiguration: LogConfigurationSpec.optional(),
  mountPoints: z.array(MountPointSpec).optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/, "must be 1-255 letters, digits, '-' or '_'")
    .optional(),
  privileged: flag().optional(),
  readonlyRootFilesystem: flag().optional(),
  repositoryCredentials: RepositoryCredentialsSpec.optional(),
  resourceRequirements: z.array(ResourceRequirementSpec).optional(),
  secrets: z.array(SecretSpec).optional(),
  ulimits: z.array(UlimitSpec).optional(),
  user: text().optional(),
  startTimeout: wholeNumber(2, 120).optional().describe("Seconds, 2-120"),
  stopTimeout: wholeNumber(2, 120).optional().describe("Seconds, 2-120"),
});

export const EcsTaskPropertiesSpec = z.strictObject({
  containers: z.array(TaskContainerPropertiesSpec).min(1).max(10),
  ephemeralStorage: EphemeralStorageSpec.optional(),
  executionRoleArn: nonEmpty().optional(),
  platformVersion: nonEmpty().optional(),
  ipcMode: z.enum(["host", "task", "none"]).optional(),
  taskRoleArn: nonEmpty().optional(),
  pidMode: z.enum(["host", "task"]).optional(),
  networkConfiguration: NetworkConfigurationSpec.optional(),
  runtimePlatform: RuntimePlatformSpec.optional(),
  volumes: z.array(VolumeSpec).optional(),
  enableExecuteCommand: flag().optional(),
  networkMode: z.enum(["host"]).optional().describe("Only with platformCapabilities [MANAGED_INSTANCES]"),
});

export const EcsPropertiesSpec = z
  .strictObject({
    // Batch takes exactly one task per job definition today.
    taskProperties: z.array(EcsTaskPropertiesSpec).min(1).max(1),
  })
  .describe("AWS Batch ecsProperties: one task of up to 10 containers; containers without image run the built image");
