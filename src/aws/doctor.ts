import {
  DescribeComputeEnvironmentsCommand,
  DescribeJobQueuesCommand,
  type ComputeEnvironmentDetail,
  type JobQueueDetail,
} from "@aws-sdk/client-batch";
import { BatchGetProjectsCommand, type Project } from "@aws-sdk/client-codebuild";
import { DescribeRepositoriesCommand, type Repository } from "@aws-sdk/client-ecr";
import { describeError, isBatchshipError } from "../errors.js";
import type { DoctorCheck } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";
import { renderTags } from "../spec/templates.js";
import { COMMIT_SOURCE_TYPES, DOCKER_ENVIRONMENT_TYPES, SUPPORTED_BUILD_IMAGES } from "./build-images.js";
import { nodeRange } from "../spec/job-definition/node-properties.js";
import type { AwsClients } from "./clients.js";
import { ensureOwnAccount, parseEcrRepository } from "./ecr-registry.js";
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
    const project = output.projects?.find((candidate) => candidate.name === name);
    if (project === undefined) {
      return [{ level: "fail", subject, message: "does not exist", hint: HINTS.codebuildProject }];
    }
    return projectChecks(subject, project);
  });
}

/**
 * What batchship cannot override per build: where the source comes from and what the build runs
 * on. Privileged mode and the buildspec come with every StartBuild, whatever the project says.
 */
function projectChecks(subject: string, project: Project): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const sourceType = project.source?.type;
  if (!(COMMIT_SOURCE_TYPES as readonly string[]).includes(sourceType ?? "")) {
    checks.push({
      level: "fail",
      subject,
      message: `has source type ${sourceType ?? "none"}, which cannot build a commit sha`,
      hint: `give the project the application repository as its source (${COMMIT_SOURCE_TYPES.join(", ")})`,
    });
  }
  const environmentType = project.environment?.type;
  if (!(DOCKER_ENVIRONMENT_TYPES as readonly string[]).includes(environmentType ?? "")) {
    checks.push({
      level: "fail",
      subject,
      message: `runs on environment type ${environmentType ?? "none"}, where Docker cannot run`,
      hint: `use one of ${DOCKER_ENVIRONMENT_TYPES.join(", ")}`,
    });
  }
  checks.push(imageCheck(subject, project.environment?.image ?? ""));
  const privileged = project.environment?.privilegedMode === true;
  checks.push({
    level: "ok",
    subject,
    message: privileged
      ? "privileged mode on (batchship asks for it with every build too)"
      : "privileged mode off: batchship turns it on for each of its builds (privilegedModeOverride)",
  });
  return checks;
}

function imageCheck(subject: string, image: string): DoctorCheck {
  const supported = `use ${SUPPORTED_BUILD_IMAGES.join(", or ")}`;
  if ((SUPPORTED_BUILD_IMAGES as readonly string[]).includes(image)) {
    return { level: "ok", subject, message: `image ${image} has Docker with buildx` };
  }
  if (image.startsWith("aws/codebuild/")) {
    return { level: "fail", subject, message: `image ${image} lacks what batchship's buildspec needs (docker buildx)`, hint: supported };
  }
  return {
    level: "warn",
    subject,
    message: `image ${image || "(none)"} is not a CodeBuild image batchship knows: it needs bash, the AWS CLI, Docker and docker buildx`,
    hint: `the build checks Docker and buildx first and fails saying which is missing; or ${supported}`,
  };
}

async function checkRepository(clients: AwsClients, spec: PipelineSpec): Promise<DoctorCheck[]> {
  const subject = `ecr repository ${spec.image.repository}`;
  return guard(subject, async () => {
    const ref = parseEcrRepository(spec.image.repository);
    let repository: Repository | undefined;
    try {
      const output = await awsCall(`describe ECR repository ${ref.name}`, () =>
        clients.ecr.send(
          new DescribeRepositoriesCommand({
            repositoryNames: [ref.name],
            ...(ref.registryId === undefined ? {} : { registryId: ref.registryId }),
          }),
        ),
      );
      repository = output.repositories?.[0];
    } catch (error) {
      if (awsErrorName(error) !== "RepositoryNotFoundException") throw error;
    }
    if (repository === undefined) {
      // Throws, with who must create it, when the URI names another account.
      await ensureOwnAccount(clients.ecr, ref, spec.image.repository);
      return [
        {
          level: "warn",
          subject,
          message: "does not exist yet: the first release creates it (tags IMMUTABLE)",
          hint: "batchship needs ecr:CreateRepository for that; or create it yourself, or deploy infra/batchship-pipeline.yml",
        },
      ];
    }
    return [mutabilityCheck(subject, spec, repository)];
  });
}

/** A tag names one image forever: the tags this pipeline pushes must never move. */
function mutabilityCheck(subject: string, spec: PipelineSpec, repository: Repository): DoctorCheck {
  const name = repository.repositoryName ?? "";
  const fix = `aws ecr put-image-tag-mutability --repository-name ${name} --image-tag-mutability IMMUTABLE`;
  const mutability = repository.imageTagMutability ?? "MUTABLE";
  if (mutability === "MUTABLE" || mutability === "MUTABLE_WITH_EXCLUSION") {
    return {
      level: "fail",
      subject,
      message: `tags are ${mutability}: a pushed tag could later name another image`,
      hint: fix,
    };
  }
  if (mutability === "IMMUTABLE_WITH_EXCLUSION") {
    const filters = (repository.imageTagMutabilityExclusionFilters ?? []).map((f) => f.filter ?? "");
    const tags = sampleTags(spec);
    const moving = tags.filter((tag) => filters.some((filter) => wildcardMatches(filter, tag)));
    if (moving.length > 0) {
      return {
        level: "fail",
        subject,
        message: `the exclusion ${filters.join(", ")} lets this pipeline's tags move (e.g. ${moving.join(", ")})`,
        hint: `${fix} (batchship's build cache needs no exclusion)`,
      };
    }
    return { level: "ok", subject, message: `tags IMMUTABLE; the exclusion ${filters.join(", ")} matches none of this pipeline's tags` };
  }
  return { level: "ok", subject, message: "exists, tags IMMUTABLE" };
}

/** The tags a release of some commit on each literal tracked branch would push. */
function sampleTags(spec: PipelineSpec): string[] {
  const branches = spec.source.branches.filter((b) => !/[*?[\]{}!]/.test(b));
  const sha = "0123456789abcdef0123456789abcdef01234567";
  return [...new Set((branches.length > 0 ? branches : ["main"]).flatMap((branch) => renderTags(spec.image.tags, { sha, branch })))];
}

/** ECR's WILDCARD filter: `*` matches any run of characters. */
function wildcardMatches(filter: string, tag: string): boolean {
  const pattern = filter.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${pattern}$`).test(tag);
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
  // A child runs on one compute environment: it can start only if one of them can ever hold it.
  // An array larger than the queue's total capacity is fine: the children wait their turn.
  const vcpus = canaryJobVcpus(spec.jobDefinition);
  const largest = Math.max(...managed.map((ce) => ce.computeResources?.maxvCpus ?? 0));
  if (largest < vcpus) {
    return [
      {
        level: "fail",
        subject,
        message: `one canary child needs ${vcpus} vCPUs, but its largest compute environment has maxvCpus ${largest}: the children would stay RUNNABLE forever`,
        hint: "raise a compute environment's maxvCpus, or lower the job's VCPU requirement",
      },
    ];
  }
  const needed = vcpus * spec.canary.arraySize;
  const available = managed.reduce((sum, ce) => sum + (ce.computeResources?.maxvCpus ?? 0), 0);
  if (available < needed) {
    return [
      {
        level: "warn",
        subject,
        message: `maxvCpus ${available} is below canary.arraySize × vcpus = ${spec.canary.arraySize} × ${vcpus} = ${needed}: the children run in turns`,
        hint: "allow for it in canary.timeoutMinutes, or raise maxvCpus / lower canary.arraySize",
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
