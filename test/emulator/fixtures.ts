import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeComputeEnvironmentsCommand,
  DescribeJobQueuesCommand,
} from "@aws-sdk/client-batch";
import { BatchGetProjectsCommand, CodeBuildClient, CreateProjectCommand } from "@aws-sdk/client-codebuild";
import { TEST_CREDENTIALS } from "./client-config.js";
import { motoQueryCall } from "./moto-client.js";

export const FIXTURE_ROLE = "batchship-emulator-service-role";
export const FIXTURE_COMPUTE_ENVIRONMENT = "batchship-emulator-ce";

interface FixtureTarget {
  /** moto itself: fixtures are set-up, not calls of the code under test, so they stay out of `calls`. */
  motoEndpoint: string;
  region: string;
  accountId: string;
}

/**
 * The AWS side a pipeline expects to exist: an UNMANAGED compute environment (moto needs no
 * Docker or VPC for it), ENABLED job queues on it, and a CodeBuild project. Safe to call again.
 */
export async function createFixtures(emulator: FixtureTarget, fixtures: { jobQueues: string[]; codebuildProject: string }): Promise<void> {
  const config = { region: emulator.region, endpoint: emulator.motoEndpoint, credentials: TEST_CREDENTIALS };
  const serviceRole = await ensureServiceRole(emulator);
  const batch = new BatchClient(config);
  const codebuild = new CodeBuildClient(config);
  try {
    const computeEnvironment = await ensureComputeEnvironment(batch, serviceRole);
    for (const name of fixtures.jobQueues) await ensureJobQueue(batch, name, computeEnvironment);
    await ensureProject(codebuild, fixtures.codebuildProject, serviceRole);
  } finally {
    batch.destroy();
    codebuild.destroy();
  }
}

/** moto checks that Batch and CodeBuild service roles exist in its IAM. */
async function ensureServiceRole(emulator: FixtureTarget): Promise<string> {
  const answer = await motoQueryCall(emulator.motoEndpoint, "iam", {
    Action: "CreateRole",
    Version: "2010-05-08",
    RoleName: FIXTURE_ROLE,
    AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
  });
  if (answer.status !== 200 && !answer.text.includes("EntityAlreadyExists")) {
    throw new Error(`could not create the fixture IAM role: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
  }
  return `arn:aws:iam::${emulator.accountId}:role/${FIXTURE_ROLE}`;
}

async function ensureComputeEnvironment(batch: BatchClient, serviceRole: string): Promise<string> {
  const existing = await batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: [FIXTURE_COMPUTE_ENVIRONMENT] }));
  const arn = existing.computeEnvironments?.[0]?.computeEnvironmentArn;
  if (arn) return arn;
  const created = await batch.send(
    new CreateComputeEnvironmentCommand({ computeEnvironmentName: FIXTURE_COMPUTE_ENVIRONMENT, type: "UNMANAGED", state: "ENABLED", serviceRole }),
  );
  if (!created.computeEnvironmentArn) throw new Error("moto created a compute environment without an ARN");
  return created.computeEnvironmentArn;
}

async function ensureJobQueue(batch: BatchClient, name: string, computeEnvironment: string): Promise<void> {
  const existing = await batch.send(new DescribeJobQueuesCommand({ jobQueues: [name] }));
  if (existing.jobQueues?.length) return;
  // moto wants the compute environment by ARN and insists on `state`.
  await batch.send(
    new CreateJobQueueCommand({
      jobQueueName: name,
      state: "ENABLED",
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment }],
    }),
  );
}

async function ensureProject(codebuild: CodeBuildClient, name: string, serviceRole: string): Promise<void> {
  const existing = await codebuild.send(new BatchGetProjectsCommand({ names: [name] }));
  if (existing.projects?.length) return;
  // Made the ordinary way: privileged mode off, no buildspec of batchship's. moto requires a
  // source location and a service role; builds never read them.
  await codebuild.send(
    new CreateProjectCommand({
      name,
      source: { type: "GITHUB", location: `https://github.com/example/${name}.git` },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: { type: "LINUX_CONTAINER", image: "aws/codebuild/standard:7.0", computeType: "BUILD_GENERAL1_SMALL", privilegedMode: false },
      serviceRole,
    }),
  );
}
