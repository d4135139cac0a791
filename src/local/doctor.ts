import type { DoctorCheck, Registry } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";
import { describeError } from "../errors.js";
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
    if (tool.limitsNotApplied !== undefined && asksForLimits(spec)) {
      checks.push({
        level: "warn",
        subject: "canary limits",
        message: `children run without the job definition's vCPUs and memory: ${tool.limitsNotApplied}`,
        hint: "run the canary with docker or podman where the limits matter (README, Isolation of canary children)",
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

function asksForLimits(spec: PipelineSpec): boolean {
  const container = spec.jobDefinition.containerProperties;
  if (container === undefined) return false;
  return (
    container.vcpus !== undefined ||
    container.memory !== undefined ||
    (container.resourceRequirements ?? []).some((r) => r.type === "VCPU" || r.type === "MEMORY")
  );
}

function failure(subject: string, error: unknown): DoctorCheck {
  const [message = "failed", hint] = describeError(error).split("\n  hint: ");
  return { level: "fail", subject, message, ...(hint === undefined ? {} : { hint }) };
}
