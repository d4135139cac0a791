import type { PathSegment } from "../problem.js";
import type { ResourceRequirement } from "./checks.js";
import type { ContainerOrNodeContainer } from "./checks.js";

export type Platform = "EC2" | "FARGATE" | "MANAGED_INSTANCES";
type Report = (path: readonly PathSegment[], message: string) => void;

/**
 * Fargate's vCPU and memory pairs (MiB), as the Batch documentation lists them for
 * ResourceRequirement: each vCPU value allows memory from `min` to `max` in steps of `step`.
 */
const FARGATE_MEMORY = new Map<string, { min: number; max: number; step: number }>([
  ["0.25", { min: 512, max: 2048, step: 512 }],
  ["0.5", { min: 1024, max: 4096, step: 1024 }],
  ["1", { min: 2048, max: 8192, step: 1024 }],
  ["2", { min: 4096, max: 16384, step: 1024 }],
  ["4", { min: 8192, max: 30720, step: 1024 }],
  ["8", { min: 16384, max: 61440, step: 4096 }],
  ["16", { min: 32768, max: 122880, step: 8192 }],
]);
// 0.25 vCPU allows 512, 1024 and 2048 MiB only.
const FARGATE_QUARTER_VCPU_MEMORY = [512, 1024, 2048];
const WHOLE = /^[1-9][0-9]*$/;
// Batch's minimum for a container's memory on EC2.
const MIN_EC2_MEMORY_MIB = 4;

/** Values per resource type and platform; each type at most once. */
export function checkResourceValues(requirements: ResourceRequirement[], path: PathSegment[], platform: Platform, report: Report): void {
  const seen = new Set<string>();
  requirements.forEach((requirement, i) => {
    const at = [...path, i, "value"];
    if (seen.has(requirement.type)) report([...path, i, "type"], `${requirement.type} is listed twice: give each resource type once`);
    seen.add(requirement.type);
    const { type, value } = requirement;
    if (platform === "FARGATE") {
      if (type === "GPU") report([...path, i, "type"], "GPU is not available on Fargate: use platformCapabilities [EC2]");
      if (type === "VCPU" && !FARGATE_MEMORY.has(value)) {
        report(at, `must be one of ${[...FARGATE_MEMORY.keys()].join(", ")} vCPUs on Fargate, got "${value}"`);
      }
      if (type === "MEMORY" && !WHOLE.test(value)) report(at, `must be a whole number of MiB, got "${value}"`);
      return;
    }
    if (!WHOLE.test(value)) {
      report(at, `must be a whole number${type === "MEMORY" ? " of MiB" : type === "VCPU" ? " of vCPUs on EC2 (fractions are for Fargate)" : ""}, got "${value}"`);
    } else if (type === "MEMORY" && Number(value) < MIN_EC2_MEMORY_MIB) {
      report(at, `must be at least ${MIN_EC2_MEMORY_MIB} MiB, got "${value}"`);
    }
  });
  if (platform !== "FARGATE") return;
  const vcpu = requirements.find((r) => r.type === "VCPU")?.value;
  const memoryIndex = requirements.findIndex((r) => r.type === "MEMORY");
  const memory = Number(requirements[memoryIndex]?.value);
  const allowed = vcpu === undefined ? undefined : FARGATE_MEMORY.get(vcpu);
  if (allowed === undefined || memoryIndex < 0 || !Number.isInteger(memory)) return;
  const fits =
    vcpu === "0.25"
      ? FARGATE_QUARTER_VCPU_MEMORY.includes(memory)
      : memory >= allowed.min && memory <= allowed.max && (memory - allowed.min) % allowed.step === 0;
  if (!fits) {
    report([...path, memoryIndex, "value"], `Fargate does not offer ${memory} MiB with ${vcpu} vCPU: use ${allowed.min}-${allowed.max} MiB in steps of ${allowed.step}`);
  }
}

// On Fargate these container settings are refused by Batch.
const NOT_ON_FARGATE = ["vcpus", "memory", "instanceType", "ulimits", "privileged"] as const;
const LINUX_NOT_ON_FARGATE = ["devices", "maxSwap", "swappiness", "sharedMemorySize", "tmpfs"] as const;
const FARGATE_LOG_DRIVERS = ["awslogs", "splunk", "awsfirelens"];

/** What Fargate requires of a container and what it forbids. */
export function checkFargateContainer(container: ContainerOrNodeContainer, path: PathSegment[], report: Report): void {
  const fargateHint = "Fargate does not support it: remove it, or use platformCapabilities [EC2]";
  for (const key of NOT_ON_FARGATE) {
    if (container[key] !== undefined) {
      const replacement = key === "vcpus" ? "VCPU" : key === "memory" ? "MEMORY" : undefined;
      report([...path, key], replacement ? `is not allowed on Fargate: use resourceRequirements [{type: ${replacement}, value}]` : `is not allowed on Fargate: ${fargateHint}`);
    }
  }
  for (const key of LINUX_NOT_ON_FARGATE) {
    if (container.linuxParameters?.[key] !== undefined) report([...path, "linuxParameters", key], `is not allowed on Fargate: ${fargateHint}`);
  }
  (container.volumes ?? []).forEach((volume, v) => {
    if (volume.host !== undefined) report([...path, "volumes", v, "host"], "host volumes are not allowed on Fargate: use efsVolumeConfiguration");
  });
  if (container.executionRoleArn === undefined) {
    report([...path, "executionRoleArn"], 'missing required key "executionRoleArn": Fargate jobs need an execution role');
  }
  const types = new Set((container.resourceRequirements ?? []).map((r) => r.type));
  for (const type of ["VCPU", "MEMORY"] as const) {
    if (!types.has(type)) report([...path, "resourceRequirements"], `must list ${type} on Fargate`);
  }
  const driver = container.logConfiguration?.logDriver;
  if (driver !== undefined && !FARGATE_LOG_DRIVERS.includes(driver)) {
    report([...path, "logConfiguration", "logDriver"], `must be one of ${FARGATE_LOG_DRIVERS.join(", ")} on Fargate, got "${driver}"`);
  }
}
