/**
 * Every AWS API call batchship makes, as IAM actions. The policies in docs/iam-policy.json (but
 * the CodeBuild service role's) grant exactly these plus EXTRA_IAM_ACTIONS;
 * test/aws/iam-policy.test.ts keeps the three in step with the source.
 */
export const AWS_IAM_ACTIONS = [
  "batch:DeregisterJobDefinition",
  "batch:DescribeComputeEnvironments",
  "batch:DescribeJobDefinitions",
  "batch:DescribeJobQueues",
  "batch:DescribeJobs",
  "batch:ListJobs",
  "batch:RegisterJobDefinition",
  "batch:SubmitJob",
  "batch:TagResource",
  "batch:TerminateJob",
  "codebuild:BatchGetBuilds",
  "codebuild:BatchGetProjects",
  "codebuild:ListBuildsForProject",
  "codebuild:StartBuild",
  "ecr:BatchGetImage",
  "codebuild:StopBuild",
  "ecr:CreateRepository",
  "ecr:DescribeImages",
  "ecr:DescribeRegistry",
  "ecr:DescribeRepositories",
  "ecr:PutImage",
  "logs:GetLogEvents",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:ReceiveMessage",
] as const;

/**
 * Permissions no SDK command names but a call needs: registering a job definition that sets
 * jobRoleArn or executionRoleArn passes those roles to Batch.
 */
export const EXTRA_IAM_ACTIONS = ["iam:PassRole"] as const;

export type AwsIamAction = (typeof AWS_IAM_ACTIONS)[number];
