import type { DoctorCheck, Registry } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";
import { describeError } from "../errors.js";
import type { LimitName } from "./cgroup-limits.js";
import type { ContainerTool } from "./container-tool.js";

/** `batchship doctor` for the local backend: the tool, the registry, the state store. */
export async function checkLocalEnvironment(
  spec: PipelineSpec,
  deps: { tool: () => Promise<ContainerTool>; registry: Registry; stateDir: string },
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [{ level: "ok", subject: "state store", message: deps.stateDir }];
  try {
    const tool = await deps.tool();
    checks.push({ level: "ok", subject: "container builder", message: `${tool.name} builds and runs the canary` });
    const asked = limitsAskedFor(spec);
    const limits = asked.length === 0 ? undefined : await tool.childLimits?.();
    const applied = asked.filter((limit) => limits?.applied?.limits.includes(limit));
    const notApplied = asked.filter((limit) => limits?.notApplied?.limits.includes(limit));
    if (applied.length > 0 && limits?.applied !== undefined) {
      checks.push({ level: "ok", subject: "canary limits", message: `children get the job definition's ${namesOf(applied)} through ${limits.applied.how}` });
    }
    if (notApplied.length > 0 && limits?.notApplied !== undefined) {
      checks.push({
        level: "warn",
        subject: "canary limits",
        message: `children run without the job definition's ${namesOf(notApplied)}: ${limits.notApplied.why}`,
        hint: "run batchship as root or in a delegated cgroup, or the canary with docker or podman, where the limits matter (README, Isolation of canary children)",
      });
    }
    const pidsShared = await tool.sharedPidsReason?.();
    if (pidsShared !== undefined) {
      checks.push({
        level: "warn",
        subject: "canary processes",
        message: `children share the host's PID namespace and see its processes: ${pidsShared}`,
        hint: "install util-linux's unshare and run as root or where user namespaces are allowed, or use docker or podman",
      });
    }
  } catch (error) {
    checks.push(failure("container builder", error));
  }
  try {
    const repository = await deps.registry.ensureRepository(spec.image.repository);
    checks.push({ level: "ok", subject: "image registry", message: `${repository.uri} is reachable` });
  } catch (error) {
    checks.push(failure("image registry", error));
  }
  return checks;
}

function limitsAskedFor(spec: PipelineSpec): LimitName[] {
  const container = spec.jobDefinition.containerProperties;
  if (container === undefined) return [];
  const requirements = container.resourceRequirements ?? [];
  return [
    ...(container.vcpus !== undefined || requirements.some((r) => r.type === "VCPU") ? (["vcpus"] as const) : []),
    ...(container.memory !== undefined || requirements.some((r) => r.type === "MEMORY") ? (["memory"] as const) : []),
  ];
}

function namesOf(limits: LimitName[]): string {
  return limits.map((limit) => (limit === "vcpus" ? "vCPUs" : "memory")).join(" and ");
}

function failure(subject: string, error: unknown): DoctorCheck {
  const [message = "failed", hint] = describeError(error).split("\n  hint: ");
  return { level: "fail", subject, message, ...(hint === undefined ? {} : { hint }) };
}
