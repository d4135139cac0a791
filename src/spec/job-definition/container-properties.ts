import { z } from "zod";
import { flag, KeyValuePairSpec, nonEmpty, SecretSpec, setByBatchship, stringList, stringMap, text, wholeNumber } from "./fields.js";

/**
 * ContainerProperties and the shapes it shares with the other kinds of job definition. Limits
 * are AWS Batch's documented ones (RegisterJobDefinition, API reference): Batch refuses a body
 * outside them, so the spec refuses it first, before anything is built.
 *
 * To bring in a member the SDK gained: add it to the shape here (the type check in
 * src/aws/spec-sdk-parity.ts lists what is missing), with the limits its documentation gives,
 * then run `npm run schema`.
 */

export const ResourceRequirementSpec = z.strictObject({
  type: z.enum(["GPU", "VCPU", "MEMORY"]),
  value: nonEmpty().describe("VCPU: number of vCPUs; MEMORY: MiB; GPU: number of GPUs (checked per platform)"),
});

export const UlimitSpec = z.strictObject({
  name: z.enum(["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"]),
  softLimit: wholeNumber(0),
  hardLimit: wholeNumber(0),
});

export const MountPointSpec = z.strictObject({
  containerPath: nonEmpty().optional(),
  readOnly: flag().optional(),
  sourceVolume: nonEmpty().optional().describe("Name of a volume of this job definition"),
});

export const VolumeSpec = z.strictObject({
  host: z.strictObject({ sourcePath: nonEmpty().optional() }).optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/, "must be 1-255 letters, digits, '-' or '_'")
    .optional(),
  efsVolumeConfiguration: z
    .strictObject({
      fileSystemId: nonEmpty(),
      rootDirectory: z.string().max(4096).optional(),
      transitEncryption: z.enum(["ENABLED", "DISABLED"]).optional(),
      transitEncryptionPort: wholeNumber(0, 65_535).optional(),
      authorizationConfig: z
        .strictObject({
          accessPointId: nonEmpty().optional(),
          iam: z.enum(["ENABLED", "DISABLED"]).optional(),
        })
        .optional(),
    })
    .optional(),
  s3filesVolumeConfiguration: z
    .strictObject({
      fileSystemArn: nonEmpty(),
      rootDirectory: z.string().max(4096).optional(),
      transitEncryptionPort: wholeNumber(0, 65_535).optional(),
      accessPointArn: nonEmpty().optional(),
    })
    .optional(),
});

export const LogConfigurationSpec = z.strictObject({
  logDriver: z.enum(["json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "awsfirelens"]),
  options: stringMap("options").optional(),
  secretOptions: z.array(SecretSpec).optional(),
});

export const LinuxParametersSpec = z.strictObject({
  devices: z
    .array(
      z.strictObject({
        hostPath: nonEmpty(),
        containerPath: nonEmpty().optional(),
        permissions: z.array(z.enum(["READ", "WRITE", "MKNOD"])).optional(),
      }),
    )
    .optional(),
  initProcessEnabled: flag().optional(),
  sharedMemorySize: wholeNumber(1).optional(),
  tmpfs: z
    .array(z.strictObject({ containerPath: nonEmpty(), size: wholeNumber(1), mountOptions: stringList().optional() }))
    .optional(),
  maxSwap: wholeNumber(0).optional(),
  swappiness: wholeNumber(0, 100).optional(),
});

export const NetworkConfigurationSpec = z.strictObject({ assignPublicIp: z.enum(["ENABLED", "DISABLED"]).optional() });
export const EphemeralStorageSpec = z.strictObject({
  sizeInGiB: wholeNumber(21, 200).describe("Fargate ephemeral storage in GiB, 21-200"),
});
export const RuntimePlatformSpec = z.strictObject({
  operatingSystemFamily: z
    .enum(["LINUX", "WINDOWS_SERVER_2019_CORE", "WINDOWS_SERVER_2019_FULL", "WINDOWS_SERVER_2022_CORE", "WINDOWS_SERVER_2022_FULL"])
    .optional(),
  cpuArchitecture: z.enum(["X86_64", "ARM64"]).optional(),
});
export const RepositoryCredentialsSpec = z.strictObject({ credentialsParameter: nonEmpty() });
export const FargatePlatformConfigurationSpec = z.strictObject({ platformVersion: nonEmpty().optional() });

const IMAGE_SET_BY_BATCHSHIP = "must not be set: batchship pins the image it built (repository@sha256:…)";

export const ContainerPropertiesSpec = z
  .strictObject({
    image: setByBatchship(IMAGE_SET_BY_BATCHSHIP),
    vcpus: wholeNumber(1)
      .optional()
      .describe("Deprecated by AWS Batch: use resourceRequirements [{type: VCPU, value}]"),
    memory: wholeNumber(4)
      .optional()
      .describe("Deprecated by AWS Batch: use resourceRequirements [{type: MEMORY, value}] (MiB)"),
    command: stringList().optional().describe("Command; Ref::name is replaced by the parameter name"),
    jobRoleArn: nonEmpty().optional(),
    executionRoleArn: nonEmpty().optional().describe("Required on Fargate"),
    volumes: z.array(VolumeSpec).optional(),
    environment: z.array(KeyValuePairSpec).optional(),
    mountPoints: z.array(MountPointSpec).optional(),
    readonlyRootFilesystem: flag().optional(),
    privileged: flag().optional(),
    ulimits: z.array(UlimitSpec).optional(),
    user: text().optional(),
    instanceType: setByBatchship("is only for multi-node parallel jobs (nodeProperties)"),
    resourceRequirements: z.array(ResourceRequirementSpec).optional(),
    linuxParameters: LinuxParametersSpec.optional(),
    logConfiguration: LogConfigurationSpec.optional(),
    secrets: z.array(SecretSpec).optional(),
    networkConfiguration: NetworkConfigurationSpec.optional(),
    fargatePlatformConfiguration: FargatePlatformConfigurationSpec.optional(),
    enableExecuteCommand: flag().optional(),
    ephemeralStorage: EphemeralStorageSpec.optional(),
    runtimePlatform: RuntimePlatformSpec.optional(),
    repositoryCredentials: RepositoryCredentialsSpec.optional(),
  })
  .describe("AWS Batch containerProperties, as in RegisterJobDefinition, without image (batchship sets it)");
