import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { BatchClient, ComputeEnvironmentDetail, JobQueueDetail } from "@aws-sdk/client-batch";
import type { CodeBuildClient } from "@aws-sdk/client-codebuild";
import type { ECRClient } from "@aws-sdk/client-ecr";
import { describe, expect, it } from "vitest";
import type { AwsClients } from "../../src/aws/clients.js";
import { checkAwsEnvironment, jobVcpus } from "../../src/aws/doctor.js";
import { testSpec } from "./spec-fixture.js";

/**
 * Compute environments that moto cannot create without EC2 networking (managed, Fargate) are
 * answered here by clients whose `send` replies per command name: the capacity rules are the
 * subject, not the wire.
 */
function fakeClients(queue: JobQueueDetail, environments: ComputeEnvironmentDetail[]): AwsClients {
  const replies: Record<string, unknown> = {
    BatchGetProjectsCommand: {
      projects: [
        {
          name: "etl-build",
          source: { type: "GITHUB" },
          environment: { type: "LINUX_CONTAINER", image: "aws/codebuild/standard:7.0", privilegedMode: false },
        },
      ],
    },
    DescribeRepositoriesCommand: { repositories: [{ repositoryName: "etl", imageTagMutability: "IMMUTABLE" }] },
    DescribeJobQueuesCommand: { jobQueues: [queue] },
    DescribeComputeEnvironmentsCommand: { computeEnvironments: environments },
  };
  const send = async (command: object) => replies[command.constructor.name] ?? {};
  const client = { send } as unknown;
  return {
    batch: client as BatchClient,
    batchOnce: client as BatchClient,
    ecr: client as ECRClient,
    codebuild: client as CodeBuildClient,
    logs: client as CloudWatchLogsClient,
    region: async () => "us-east-1",
  };
}

const queue: JobQueueDetail = {
  jobQueueName: "canary",
  jobQueueArn: "arn:aws:batch:us-east-1:123456789012:job-queue/canary",
  state: "ENABLED",
  status: "VALID",
  priority: 1,
  computeEnvironmentOrder: [{ order: 1, computeEnvironment: "arn:ce/a" }],
};

function managed(minvCpus: number, maxvCpus: number, type: "EC2" | "FARGATE" = "EC2"): ComputeEnvironmentDetail {
  return {
    computeEnvironmentName: "a",
    computeEnvironmentArn: "arn:ce/a",
    state: "ENABLED",
    status: "VALID",
    type: "MANAGED",
    computeResources: { type, minvCpus, maxvCpus, subnets: [] },
  };
}

describe("doctor capacity checks", () => {
  it("warns, and does not fail, when the array needs more than maxvCpus at once: the children queue", async () => {
    const spec = testSpec({
      jobDefinition: { name: "etl", containerProperties: { resourceRequirements: [{ type: "VCPU", value: "2" }] } },
      canary: { jobQueue: "canary", arraySize: 4 },
    });
    const checks = await checkAwsEnvironment(fakeClients(queue, [managed(2, 6)]), spec);
    expect(checks.filter((c) => c.level === "fail")).toEqual([]);
    expect(checks).toContainEqual(
      expect.objectContaining({ level: "warn", subject: "job queue canary", message: expect.stringContaining("4 × 2 = 8") }),
    );
  });

  it("fails when one child needs more vCPUs than any compute environment can ever give", async () => {
    const spec = testSpec({
      jobDefinition: { name: "etl", containerProperties: { resourceRequirements: [{ type: "VCPU", value: "8" }] } },
      canary: { jobQueue: "canary", arraySize: 1 },
    });
    const small = [managed(0, 4), { ...managed(0, 6), computeEnvironmentName: "b", computeEnvironmentArn: "arn:ce/b" }];
    const twoQueue = { ...queue, computeEnvironmentOrder: [{ order: 1, computeEnvironment: "arn:ce/a" }, { order: 2, computeEnvironment: "arn:ce/b" }] };
    const checks = await checkAwsEnvironment(fakeClients(twoQueue, small), spec);
    // 4 + 6 = 10 vCPUs in all, but no single environment holds an 8-vCPU child.
    expect(checks).toContainEqual(
      expect.objectContaining({ level: "fail", subject: "job queue canary", message: expect.stringContaining("needs 8 vCPUs, but its largest compute environment has maxvCpus 6") }),
    );
  });

  it("passes when there is room, and warns when minvCpus is 0", async () => {
    const checks = await checkAwsEnvironment(fakeClients(queue, [managed(0, 16)]), testSpec());
    expect(checks.filter((c) => c.level === "fail")).toEqual([]);
    expect(checks).toContainEqual(
      expect.objectContaining({
        level: "warn",
        subject: "compute environment a",
        hint: "make sure canary.runnableTimeoutMinutes allows for it",
      }),
    );
    expect(checks).toContainEqual(expect.objectContaining({ level: "ok", message: "maxvCpus 16 covers the canary's 3 vCPUs" }));
  });

  it("fails an EC2 job on a queue with only Fargate capacity", async () => {
    const checks = await checkAwsEnvironment(fakeClients(queue, [managed(0, 16, "FARGATE")]), testSpec());
    expect(checks).toContainEqual(expect.objectContaining({ level: "fail", message: expect.stringContaining("EC2") }));
  });

  it("fails a disabled queue and an invalid compute environment", async () => {
    const broken: ComputeEnvironmentDetail = { ...managed(1, 16), status: "INVALID", statusReason: "subnet gone" };
    const checks = await checkAwsEnvironment(fakeClients({ ...queue, state: "DISABLED" }, [broken]), testSpec());
    expect(checks).toContainEqual(expect.objectContaining({ level: "fail", subject: "job queue canary", message: expect.stringContaining("DISABLED") }));
    expect(checks).toContainEqual(expect.objectContaining({ level: "fail", message: "is INVALID: subnet gone" }));
  });

  it("reads vCPUs from resourceRequirements, then vcpus, else 1", () => {
    expect(jobVcpus({ resourceRequirements: [{ type: "VCPU", value: "0.5" }] })).toBe(0.5);
    expect(jobVcpus({ vcpus: 4 })).toBe(4);
    expect(jobVcpus({})).toBe(1);
  });
});
