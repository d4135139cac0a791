import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CodeBuildClient, CreateProjectCommand } from "@aws-sdk/client-codebuild";
import { DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SUPPORTED_BUILD_IMAGES } from "../../src/aws/build-images.js";
import { createAwsBackend } from "../../src/aws/index.js";
import { checkEventsQueue, createSqsClient } from "../../src/aws/sqs-change-listener.js";
import { createEngineContext } from "../../src/release/context.js";
import { promoteRelease } from "../../src/release/promote-release.js";
import { runRelease } from "../../src/release/run-release.js";
import { renderPipelineTemplate } from "../../scripts/pipeline-template.js";
import { createFixtures, deployStack, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { motoQueryCall } from "../emulator/moto-client.js";
import { randomSha } from "../release/harness.js";
import { makeSpec } from "../support/spec.js";
import { virtualTime } from "../support/virtual-time.js";

const TEMPLATE = join(import.meta.dirname, "..", "..", "infra", "batchship-pipeline.yml");
const templateText = readFileSync(TEMPLATE, "utf8");
const template = parse(templateText);

describe("infra/batchship-pipeline.yml", () => {
  it("is generated from docs/iam-policy.json (npm run infra)", () => {
    expect(templateText).toBe(renderPipelineTemplate());
  });

  it("passes cfn-lint", () => {
    const lint = spawnSync("cfn-lint", ["--", TEMPLATE], { encoding: "utf8" });
    if (lint.error) throw new Error(`cfn-lint could not run (${lint.error.message}): install it with pip install cfn-lint`);
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.status).toBe(0);
  });

  // moto's CloudFormation has no AWS::CodeBuild::Project: its properties are checked here, and
  // the deployment test below creates the project from them.
  it("makes a privileged CodeBuild project on a supported image, with a source that takes commit shas", () => {
    const project = template.Resources.BuildProject;
    expect(project.Type).toBe("AWS::CodeBuild::Project");
    expect(project.Properties.Environment.PrivilegedMode).toBe(true);
    expect(project.Properties.Environment.Image).toEqual({ Ref: "BuildImage" });
    expect(template.Parameters.BuildImage.AllowedValues).toEqual([...SUPPORTED_BUILD_IMAGES]);
    expect(project.Properties.Source.Type).toBe("GITHUB");
    expect(project.Properties.ServiceRole).toEqual({ "Fn::GetAtt": ["BuildRole", "Arn"] });
  });

  it("trusts GitHub's OIDC tokens of one repository only, and the promote Environment for the promote role", () => {
    const subjectOf = (role: string) =>
      template.Resources[role].Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringLike["token.actions.githubusercontent.com:sub"];
    expect(subjectOf("ReleaseRole")).toEqual({ "Fn::Sub": "repo:${GitHubRepository}:*" });
    expect(subjectOf("PromoteRole")).toEqual({ "Fn::Sub": "repo:${GitHubRepository}:environment:${PromoteEnvironment}" });
  });
});

describe("a stack deployed into moto's CloudFormation", () => {
  let emulator: Emulator;
  let outputs: Record<string, string>;
  const names = { RepositoryName: "stack-etl", ProjectName: "stack-etl-build", JobDefinitionName: "stack-etl", CanaryJobQueue: "stack-canary" };

  beforeAll(async () => {
    emulator = await startEmulator();
    outputs = await deployStack(emulator.motoEndpoint, "batchship-etl", templateText, {
      ...names,
      SourceLocation: "https://github.com/acme/etl.git",
      GitHubRepository: "acme/etl",
      // moto's CloudFormation has no AWS::IAM::OIDCProvider either: name an existing one.
      GitHubOidcProviderArn: `arn:aws:iam::${emulator.accountId}:oidc-provider/token.actions.githubusercontent.com`,
      PromotionMode: "manual",
      EventsQueue: "true",
    });
    // The project moto cannot make, made from the template's properties and the stack's role.
    const environment = template.Resources.BuildProject.Properties.Environment;
    const codebuild = new CodeBuildClient(testClientConfig(emulator));
    await codebuild.send(
      new CreateProjectCommand({
        name: names.ProjectName,
        source: { type: template.Resources.BuildProject.Properties.Source.Type, location: "https://github.com/acme/etl.git" },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: { type: "LINUX_CONTAINER", image: template.Parameters.BuildImage.Default, computeType: template.Parameters.BuildComputeType.Default, privilegedMode: environment.PrivilegedMode },
        serviceRole: outputs["BuildRoleArn"] ?? "",
      }),
    );
    codebuild.destroy();
    await createFixtures(emulator, { jobQueues: [names.CanaryJobQueue], codebuildProject: names.ProjectName });
  }, 60_000);
  afterAll(async () => emulator?.close());

  it("outputs the repository URI and the role ARNs the Action and the service assume", () => {
    expect(outputs["RepositoryUri"]).toBe(`${emulator.accountId}.dkr.ecr.${emulator.region}.amazonaws.com/${names.RepositoryName}`);
    expect(outputs["ReleaseRoleArn"]).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(outputs["PromoteRoleArn"]).toMatch(/^arn:aws:iam::\d{12}:role\//);
  });

  it("gives the production job definition to the promote role only (promotion.mode manual)", async () => {
    const policiesOf = async (roleArn: string | undefined) => {
      const answer = await motoQueryCall(emulator.motoEndpoint, "iam", { Action: "ListRolePolicies", Version: "2010-05-08", RoleName: roleArn?.split("/").pop() ?? "" });
      return [...answer.text.matchAll(/<member>([^<]+)<\/member>/g)].map((m) => m[1]).sort();
    };
    expect(await policiesOf(outputs["ReleaseRoleArn"])).toEqual(["batchship-events", "batchship-read", "batchship-release"]);
    expect(await policiesOf(outputs["PromoteRoleArn"])).toEqual(["batchship-promote", "batchship-read"]);
  });

  it("with EventsQueue true, makes the queue the service reads events from, and rules sending the pipeline's changes to it", async () => {
    const queueUrl = outputs["EventsQueueUrl"] ?? "";
    expect(queueUrl).toMatch(/\/\d{12}\/[A-Za-z0-9_-]+$/);
    const sqs = createSqsClient(testClientConfig(emulator), queueUrl);
    await expect(checkEventsQueue(sqs, queueUrl)).resolves.toBeUndefined();
    sqs.destroy();
    const rules = template.Resources;
    expect(rules.BatchEventsRule.Properties.EventPattern.detail.jobQueue[0]).toEqual({
      "Fn::Sub": "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-queue/${CanaryJobQueue}",
    });
    expect(rules.BuildEventsRule.Properties.EventPattern.detail["project-name"]).toEqual([{ Ref: "ProjectName" }]);
    const listed = await motoQueryCall(emulator.motoEndpoint, "sqs", { Action: "ListQueues", Version: "2012-11-05" });
    expect(listed.text).toContain(queueUrl.split("/").pop());
  });

  it("makes the repository with immutable tags", async () => {
    const ecr = new ECRClient(testClientConfig(emulator));
    const { repositories } = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [names.RepositoryName] }));
    ecr.destroy();
    expect(repositories?.[0]?.imageTagMutability).toBe("IMMUTABLE");
  });

  it("takes a release and its promotion", async () => {
    const spec = makeSpec({
      name: "stack-etl",
      image: { repository: outputs["RepositoryUri"] ?? "" },
      build: { project: names.ProjectName },
      jobDefinition: { name: names.JobDefinitionName },
      canary: { jobQueue: names.CanaryJobQueue },
      promotion: { mode: "manual" },
    });
    const time = virtualTime();
    const ctx = createEngineContext(createAwsBackend(testClientConfig(emulator)), {
      clock: time.clock,
      sleep: time.sleep,
      observe: () => {},
      polling: { buildIntervalMs: 10_000, canaryIntervalMs: 15_000, retryDelayMs: 1_000 },
    });
    const commit = randomSha();

    const released = await runRelease(ctx, { spec, commit, branch: "main" });
    expect(released.error).toBeUndefined();
    expect(released.status).toBe("awaiting-promotion");
    expect(emulator.count("CreateRepository")).toBe(0);

    await promoteRelease(ctx, spec, commit);
    const [production] = await ctx.backend.platform.listJobDefinitionRevisions(names.JobDefinitionName);
    expect(production?.body.containerProperties?.image).toBe(released.image?.uri);
  });
});
