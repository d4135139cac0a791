// The CloudFormation template for one pipeline (infra/batchship-pipeline.yml), built from the
// policies in docs/iam-policy.json so that a permission is written in one place.
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { SUPPORTED_BUILD_IMAGES } from "../src/aws/build-images.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface PolicyFile {
  Policies: Record<"read" | "release" | "promote" | "pass-roles" | "build", Json>;
}

const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
const NO_VALUE = { Ref: "AWS::NoValue" };

/** Parameters that may be left empty; anything naming them disappears when they are. */
const OPTIONAL_PARAMETERS = ["JobRoleArn", "ExecutionRoleArn", "FallbackJobQueue", "ServicePrincipalArn"];

export function readPolicies(): PolicyFile["Policies"] {
  const file = JSON.parse(readFileSync(new URL("../docs/iam-policy.json", import.meta.url), "utf8")) as PolicyFile;
  return file.Policies;
}

export function renderPipelineTemplate(): string {
  const header = [
    "# batchship: what one pipeline needs in one AWS account and region. Generated from",
    "# docs/iam-policy.json by `npm run infra`; edit the policies there.",
    "",
  ].join("\n");
  // Written for YAML 1.1 readers too: strings like 2012-10-17 are quoted, never read as dates.
  return header + stringify(pipelineTemplate(readPolicies()), { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false });
}

export function pipelineTemplate(policies: PolicyFile["Policies"]): Record<string, Json> {
  // One AWS::IAM::Policy per duty and role, each with its own Condition: which duties a role
  // holds depends on the parameters, and a conditional resource says so plainly.
  const policy = (role: string, name: keyof PolicyFile["Policies"], condition?: string): Record<string, Json> => ({
    Type: "AWS::IAM::Policy",
    ...(condition === undefined ? {} : { Condition: condition }),
    Properties: { PolicyName: `batchship-${name}`, Roles: [{ Ref: role }], PolicyDocument: substitute(policies[name]) },
  });
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: "batchship pipeline: ECR repository, CodeBuild project, and the IAM roles GitHub Actions and the batchship service assume",
    Parameters: {
      RepositoryName: { Type: "String", Description: "ECR repository (image.repository)", AllowedPattern: "^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$" },
      ProjectName: { Type: "String", Description: "CodeBuild project (build.project)", AllowedPattern: "^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$" },
      SourceLocation: { Type: "String", Description: "HTTPS clone URL of the application's GitHub repository, e.g. https://github.com/acme/etl.git" },
      GitHubRepository: { Type: "String", Description: "owner/name of the repository whose workflows may release (source.repository)", AllowedPattern: "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$" },
      GitHubOidcProviderArn: { Type: "String", Default: "", Description: `ARN of the account's existing ${GITHUB_OIDC_HOST} identity provider; empty creates one (an account has at most one)` },
      PromoteEnvironment: { Type: "String", Default: "production", Description: "GitHub Environment whose jobs may assume the promote role (promotion.mode manual)" },
      ServicePrincipalArn: { Type: "String", Default: "", Description: "ARN of the role `batchship serve` runs as; empty when there is no service" },
      JobDefinitionName: { Type: "String", Description: "production job definition (jobDefinition.name); candidates are <name>-canary" },
      CanaryJobQueue: { Type: "String", Description: "canary.jobQueue" },
      FallbackJobQueue: { Type: "String", Default: "", Description: "canary.fallbackJobQueue, if any" },
      JobRoleArn: { Type: "String", Default: "", Description: "jobRoleArn the job definition names, if any" },
      ExecutionRoleArn: { Type: "String", Default: "", Description: "executionRoleArn the job definition names, if any" },
      PromotionMode: { Type: "String", Default: "auto", AllowedValues: ["auto", "manual"], Description: "promotion.mode" },
      BuildImage: { Type: "String", Default: SUPPORTED_BUILD_IMAGES[0], AllowedValues: [...SUPPORTED_BUILD_IMAGES], Description: "CodeBuild image with Docker and buildx" },
      BuildComputeType: { Type: "String", Default: "BUILD_GENERAL1_MEDIUM", AllowedValues: ["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] },
    },
    Conditions: {
      CreateOidcProvider: { "Fn::Equals": [{ Ref: "GitHubOidcProviderArn" }, ""] },
      ...Object.fromEntries(OPTIONAL_PARAMETERS.map((name) => [`Has${name}`, { "Fn::Not": [{ "Fn::Equals": [{ Ref: name }, ""] }] }])),
      HasPassedRoles: { "Fn::Or": [{ Condition: "HasJobRoleArn" }, { Condition: "HasExecutionRoleArn" }] },
      ManualPromotion: { "Fn::Equals": [{ Ref: "PromotionMode" }, "manual"] },
      ManualPromotionWithPassedRoles: { "Fn::And": [{ Condition: "ManualPromotion" }, { Condition: "HasPassedRoles" }] },
      AutoPromotion: { "Fn::Equals": [{ Ref: "PromotionMode" }, "auto"] },
      ArmBuildImage: { "Fn::Equals": [{ Ref: "BuildImage" }, "aws/codebuild/amazonlinux-aarch64-standard:3.0"] },
    },
    Resources: {
      Repository: {
        Type: "AWS::ECR::Repository",
        // Every tag names one image forever; the build's layer cache rides inside the images
        // and needs no tag of its own, so there is no exclusion.
        Properties: { RepositoryName: { Ref: "RepositoryName" }, ImageTagMutability: "IMMUTABLE" },
      },
      GitHubOidcProvider: {
        Type: "AWS::IAM::OIDCProvider",
        Condition: "CreateOidcProvider",
        Properties: { Url: `https://${GITHUB_OIDC_HOST}`, ClientIdList: ["sts.amazonaws.com"] },
      },
      BuildRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          Description: "CodeBuild service role: logs, and push to this pipeline's repository only",
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "codebuild.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
              },
            ],
          },
        },
      },
      BuildRolePolicy: policy("BuildRole", "build"),
      BuildProject: {
        Type: "AWS::CodeBuild::Project",
        DependsOn: ["Repository"],
        Properties: {
          Name: { Ref: "ProjectName" },
          Description: "batchship builds: every StartBuild sends batchship's buildspec",
          ServiceRole: { "Fn::GetAtt": ["BuildRole", "Arn"] },
          // A GitHub source takes a commit sha as sourceVersion.
          Source: { Type: "GITHUB", Location: { Ref: "SourceLocation" } },
          Artifacts: { Type: "NO_ARTIFACTS" },
          Environment: {
            Type: { "Fn::If": ["ArmBuildImage", "ARM_CONTAINER", "LINUX_CONTAINER"] },
            ComputeType: { Ref: "BuildComputeType" },
            Image: { Ref: "BuildImage" },
            PrivilegedMode: true,
          },
          TimeoutInMinutes: 60,
        },
      },
      ReleaseRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          Description: "batchship release (GitHub Actions on any ref of the repository, and the service)",
          AssumeRolePolicyDocument: trustPolicy({ "Fn::Sub": "repo:${GitHubRepository}:*" }),
        },
      },
      ReleaseRoleReadPolicy: policy("ReleaseRole", "read"),
      ReleaseRoleReleasePolicy: policy("ReleaseRole", "release"),
      ReleaseRolePassRolesPolicy: policy("ReleaseRole", "pass-roles", "HasPassedRoles"),
      ReleaseRolePromotePolicy: policy("ReleaseRole", "promote", "AutoPromotion"),
      PromoteRole: {
        Type: "AWS::IAM::Role",
        Condition: "ManualPromotion",
        Properties: {
          Description: "batchship promote and rollback (GitHub Actions jobs in the promote Environment, and the service)",
          AssumeRolePolicyDocument: trustPolicy({ "Fn::Sub": "repo:${GitHubRepository}:environment:${PromoteEnvironment}" }),
        },
      },
      PromoteRoleReadPolicy: policy("PromoteRole", "read", "ManualPromotion"),
      PromoteRolePromotePolicy: policy("PromoteRole", "promote", "ManualPromotion"),
      PromoteRolePassRolesPolicy: policy("PromoteRole", "pass-roles", "ManualPromotionWithPassedRoles"),
    },
    Outputs: {
      RepositoryUri: { Description: "image.repository", Value: { "Fn::GetAtt": ["Repository", "RepositoryUri"] } },
      ProjectName: { Description: "build.project", Value: { Ref: "BuildProject" } },
      BuildRoleArn: { Value: { "Fn::GetAtt": ["BuildRole", "Arn"] } },
      ReleaseRoleArn: { Description: "role-to-assume for release (aws-actions/configure-aws-credentials)", Value: { "Fn::GetAtt": ["ReleaseRole", "Arn"] } },
      PromoteRoleArn: {
        Condition: "ManualPromotion",
        Description: "role-to-assume for promote and rollback",
        Value: { "Fn::GetAtt": ["PromoteRole", "Arn"] },
      },
    },
  };
}

function trustPolicy(subject: Json): Json {
  const provider = { "Fn::If": ["CreateOidcProvider", { Ref: "GitHubOidcProvider" }, { Ref: "GitHubOidcProviderArn" }] };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com" },
          StringLike: { [`${GITHUB_OIDC_HOST}:sub`]: subject },
        },
      },
      {
        "Fn::If": [
          "HasServicePrincipalArn",
          { Effect: "Allow", Principal: { AWS: { Ref: "ServicePrincipalArn" } }, Action: "sts:AssumeRole" },
          NO_VALUE,
        ],
      },
    ],
  };
}

/** `${Name}` strings become Fn::Sub; those naming an optional parameter vanish when it is empty. */
function substitute(value: Json): Json {
  if (typeof value === "string") {
    if (!value.includes("${")) return value;
    const sub = { "Fn::Sub": value };
    const optional = OPTIONAL_PARAMETERS.find((name) => value.includes(`\${${name}}`));
    return optional === undefined ? sub : { "Fn::If": [`Has${optional}`, sub, NO_VALUE] };
  }
  if (Array.isArray(value)) return value.map(substitute);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, substitute(inner)]));
  }
  return value;
}
