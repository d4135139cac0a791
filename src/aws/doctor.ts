import {
  DescribeComputeEnvironmentsCommand,
  DescribeJobQueuesCommand,
  type ComputeEnvironmentDetail,
  type JobQueueDetail,
} from "@aws-sdk/client-batch";
import { BatchGetProjectsCommand } from "@aws-sdk/client-codebuild";
import { DescribeRepositoriesCommand } from "@aws-sdk/client-ecr";
import { describeError, isBatchshipError } from "../errors.js";
import type { DoctorCheck } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";
import { nodeRange } from "../spec/job-definition/node-properties.js";
import type { AwsClients } from "./clients.js";
import { parseEcrRepository } from "./ecr-registry.js";
import { awsCall, awsErrorName, HINTS } from "./errors.js";

/**
 * What `batchship doctor` can learn from AWS before a first release: every problem is a check,
 * never an exception, so one run reports all of them.
 */
export async function checkAwsEnvironment(clients: AwsClients, spec: PipelineSpec): Promise<DoctorCheck[]> {
  const subject = "aws region";
  try {
    const region = await clients.region();
    const checks: DoctorCheck[] = [{ level: "ok", subject, message: `using ${region}` }];
    for (const section of [checkCodeBuildProject, checkRepository, checkQueues]) {
      checks.push(...(await section(clients, spec)));
    }
    return checks;
  } catch (error) {
    // Without a region nothing else can be asked.
    return [failure(subject, error)];
  }
}

async function checkCodeBuildProject(clients: AwsClients, spec: PipelineSpec): Promise<DoctorCheck[]> {
  const name = spec.build.project;
  const subject = `codebuild project ${name}`;
  return guard(subject, async () => {
    const output = await awsCall(`read CodeBuild project ${name}`, () =>
      clients.codebuild.send(new BatchGetProjectsCommand({ names: [name] })),
    );
    if (!output.projects?.some((project) => project.name === name)) {
      return [{ level: "fail", subject, message: "does not exist", hint: HINTS.codebuildProject }];
    }
    return [{ level: "ok", subject, message: "exists" }];
  });
}

async function checkRepository(clients: AwsClients, spec: PipelineSpec): Promise<DoctorCheck[]> {
  const subject = `ecr repository ${spec.image.repository}`;
  return guard(subject, async () => {
    const ref = parseEcrRepository(spec.image.repository);
    try {
      await awsCall(`describe ECR repository ${ref.name}`, () =>
        clients.ecr.send(
          new DescribeRepositoriesCommand({
            repositoryNames: [ref.name],
            ...(ref.registryId === undefined ? {} : { registryId: ref.registryId }),
          }),
        ),
      );
      return [{ level: "ok", subject, message: "exists" }];
    } catch (error) {
      if (awsErrorName(error) !== "RepositoryNotFoundException") throw error;
      return [
        {
          level: "warn",
          subject,
          message: "does not exist yet: the first release creates it (tags IMMUTABLE)",
          hint: "batchship needs ecr:CreateRepository for that; or create it yourself",
        },
      ];
    }
  });
}

async function checkQueues(clients: AwsClients, spec: PipelineSpec): Promise<DoctorCheck[]> {
  const names = [spec.canary.jobQueue, ...(spec.canary.fallbackJobQueue ? [spec.canary.fallbackJobQueue] : [])];
  const describeSubject = `job queue ${names.join(", ")}`;
  return guard(describeSubject, async () => {
    const output = await awsCall(`describe job queues ${names.join(", ")}`, () =>
      clients.batch.send(new DescribeJobQueuesCommand({ jobQueues: names })),
    );
    const checks: DoctorCheck[] = [];
    for (const name of names) {
      const queue = output.jobQueues?.find((q) => q.jobQueueName === name || q.jobQueueArn === name);
      if (queue === undefined) {
        checks.push({ level: "fail", subject: `job queue ${name}`, message: "does not exist", hint: HINTS.jobQueue });
        continue;
      }
      checks.push(...queueChecks(queue));
      checks.push(...(await computeChecks(clients, spec, queue)));
    }
    return checks;
  });
}

function queueChecks(queue: JobQueueDetail): DoctorCheck[] {
  const subject = `job queue ${queue.jobQueueName}`;
  const problems: DoctorCheck[] = [];
  if (queue.state !== "ENABLED") {
    problems.push({
      level: "fail",
      subject,
      message: `is ${queue.state ?? "not ENABLED"}: jobs would wait in RUNNABLE forever`,
      hint: `enable it: aws batch update-job-queue --job-queue ${queue.jobQueueName} --state ENABLED`,
    });
  }
  problems.push(...statusCheck(subject, queue.status, queue.statusReason));
  return problems.length > 0 ? problems : [{ level: "ok", subject, message: "ENABLED and VALID" }];
}

async function computeChecks(clients: AwsClients, spec: PipelineSpec, queue: JobQueueDetail): Promise<DoctorCheck[]> {
  const queueSubject = `job queue ${queue.jobQueueName}`;
  const arns = (queue.computeEnvironmentOrder ?? []).flatMap((order) => order.computeEnvironment ?? []);
  if (arns.length === 0) {
    return [{ level: "fail", subject: queueSubject, message: "has no compute environments" }];
  }
  const output = await awsCall(`describe compute environments of job queue ${queue.jobQueueName}`, () =>
    clients.batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: arns })),
  );
  const environments = output.computeEnvironments ?? [];
  const checks: DoctorCheck[] = [];
  for (const arn of arns) {
    const environment = environments.find((ce) => ce.computeEnvironmentArn === arn || ce.computeEnvironmentName === arn);
    if (environment === undefined) {
      checks.push({
        level: "fail",
        subject: `compute environment ${arn}`,
        message: "does not exist",
        hint: HINTS.computeEnvironment,
      });
      continue;
    }
    checks.push(...environmentChecks(environment));
  }
  checks.push(...capacityChecks(spec, queueSubject, environments));
  return checks;
}

function environmentChecks(environment: ComputeEnvironmentDetail): DoctorCheck[] {
  const subject = `compute environment ${environment.computeEnvironmentName}`;
  const checks: DoctorCheck[] = [];
  // UNMANAGED environments may report no state at all; only an explicit DISABLED is a problem.
  if (environment.state === "DISABLED") {
    checks.push({
      level: "fail",
      subject,
      message: "is DISABLED: its queue cannot start jobs",
      hint: `enable it: aws batch update-compute-environment --compute-environment ${environment.computeEnvironmentName} --state ENABLED`,
    });
  }
  checks.push(...statusCheck(subject, environment.status, environment.statusReason));
  const resources = environment.computeResources;
  const fargate = resources?.type === "FARGATE" || resources?.type === "FARGATE_SPOT";
  if (resources !== undefined && !fargate && !resources.minvCpus) {
    checks.push({
      level: "warn",
      subject,
      message: "minvCpus is 0, so instances take minutes to start",
      hint: "make sure canary.runnableTimeoutMinutes allows for it",
    });
  }
  return checks.length > 0 ? checks : [{ level: "ok", subject, message: "ENABLED and VALID" }];
}

function capacityChecks(spec: PipelineSpec, subject: string, environments: ComputeEnvironmentDetail[]): DoctorCheck[] {
  const usable = environments.filter((ce) => ce.state !== "DISABLED");
  const wantsFargate = (spec.jobDefinition.platformCapabilities ?? []).includes("FARGATE");
  const matching = usable.filter((ce) => isFargate(ce) === wantsFargate);
  if (matching.length === 0) {
    return [
      {
        level: "fail",
        subject,
        message: `has no enabled ${wantsFargate ? "FARGATE" : "EC2"} compute environment for jobDefinition.platformCapabilities`,
        hint: "attach a matching compute environment, or change jobDefinition.platformCapabilities",
      },
    ];
  }
  const managed = matching.filter((ce) => ce.computeResources !== undefined);
  if (managed.length === 0) {
    return [{ level: "ok", subject, message: "capacity not checked: its compute environments are UNMANAGED" }];
  }
  const vcpus = canaryJobVcpus(spec.jobDefinition);
  const needed = vcpus * spec.canary.arraySize;
  const available = managed.reduce((sum, ce) => sum + (ce.computeResources?.maxvCpus ?? 0), 0);
  if (available < needed) {
    return [
      {
        level: "fail",
        subject,
        message: `maxvCpus ${available} is below canary.arraySize × vcpus = ${spec.canary.arraySize} × ${vcpus} = ${needed}`,
        hint: "raise the compute environments' maxvCpus or lower canary.arraySize",
      },
    ];
  }
  return [{ level: "ok", subject, message: `maxvCpus ${available} covers the canary's ${needed} vCPUs` }];
}

function statusCheck(subject: string, status: string | undefined, reason: string | undefined): DoctorCheck[] {
  if (status === undefined || status === "VALID") return [];
  const because = reason ? `: ${reason}` : "";
  const level = status === "CREATING" || status === "UPDATING" ? "warn" : "fail";
  return [{ level, subject, message: `is ${status}${because}` }];
}

function isFargate(environment: ComputeEnvironmentDetail): boolean {
  const type = environment.computeResources?.type;
  return type === "FARGATE" || type === "FARGATE_SPOT";
}

/**
 * vCPUs of one canary child: its container's, the sum of an ECS task's containers, or for a
 * multi-node job the sum over its nodes.
 */
export function canaryJobVcpus(def: PipelineSpec["jobDefinition"]): number {
  const sum = (containers: readonly Record<string, unknown>[]) => containers.reduce((total, c) => total + jobVcpus(c), 0);
  const ecs = (e: { taskProperties: { containers: Record<string, unknown>[] }[] }) => sum(e.taskProperties.flatMap((t) => t.containers));
  if (def.ecsProperties !== undefined) return ecs(def.ecsProperties);
  if (def.nodeProperties !== undefined) {
    const { numNodes, nodeRangeProperties } = def.nodeProperties;
    return nodeRangeProperties.reduce((total, range) => {
      const [first, last] = nodeRange(range.targetNodes, numNodes) ?? [0, -1];
      const perNode = range.container !== undefined ? jobVcpus(range.container) : range.ecsProperties !== undefined ? ecs(range.ecsProperties) : 1;
      return total + perNode * Math.max(0, last - first + 1);
    }, 0);
  }
  return jobVcpus(def.containerProperties ?? {});
}

/** vCPUs of one container: `vcpus`, or the VCPU resource requirement, else Batch's 1. */
export function jobVcpus(containerProperties: Record<string, unknown>): number {
  const requirements = containerProperties["resourceRequirements"];
  if (Array.isArray(requirements)) {
    const vcpu = requirements.find(
      (r): r is { type: string; value: unknown } => typeof r === "object" && r !== null && r.type === "VCPU",
    );
    const value = Number(vcpu?.value);
    if (Number.isFinite(value) && value > 0) return value;
  }
  const vcpus = Number(containerProperties["vcpus"]);
  return Number.isFinite(vcpus) && vcpus > 0 ? vcpus : 1;
}

async function guard(subject: string, run: () => Promise<DoctorCheck[]>): Promise<DoctorCheck[]> {
  try {
    return await run();
  } catch (error) {
    return [failure(subject, error)];
  }
}

function failure(subject: string, error: unknown): DoctorCheck {
  const check: DoctorCheck = { level: "fail", subject, message: isBatchshipError(error) ? error.message : describeError(error) };
  if (isBatchshipError(error) && error.hint !== undefined) check.hint = error.hint;
  return check;
}
