import { describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import { toJobState } from "../../src/aws/batch-mapping.js";
import { createAwsLinks } from "../../src/aws/links.js";

describe("createAwsLinks", () => {
  const links = createAwsLinks(() => "eu-west-1");

  it("links a CodeBuild build in its project", () => {
    expect(links.build?.("etl-build:1234-abcd")).toBe(
      "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/etl-build/build/etl-build%3A1234-abcd/?region=eu-west-1",
    );
  });

  it("links an ECR image in the repository's own region", () => {
    const repository = { name: "etl", uri: "123456789012.dkr.ecr.us-east-2.amazonaws.com/etl" };
    expect(links.image?.(repository, "sha256:abc")).toBe(
      "https://us-east-2.console.aws.amazon.com/ecr/repositories/private/123456789012/etl/_/image/sha256%3Aabc/details?region=us-east-2",
    );
  });

  it("links job definitions by ARN and jobs by id", () => {
    expect(links.jobDefinition?.("arn:aws:batch:ap-south-1:123456789012:job-definition/etl:3")).toBe(
      "https://ap-south-1.console.aws.amazon.com/batch/home?region=ap-south-1#job-definition/detail/arn:aws:batch:ap-south-1:123456789012:job-definition/etl:3",
    );
    expect(links.job?.("0a1b")).toBe("https://eu-west-1.console.aws.amazon.com/batch/home?region=eu-west-1#jobs/detail/0a1b");
  });

  it("falls back to the default console region before the region is known", () => {
    expect(createAwsLinks(() => undefined).job?.("0a1b")).toBe("https://console.aws.amazon.com/batch/home#jobs/detail/0a1b");
  });

  it("uses the backend's region once resolved", async () => {
    const backend = createAwsBackend({ region: "sa-east-1" });
    await backend.clients.region();
    expect(backend.links?.job?.("0a1b")).toBe("https://sa-east-1.console.aws.amazon.com/batch/home?region=sa-east-1#jobs/detail/0a1b");
  });

  it("opens the console of the partition: China and GovCloud have consoles of their own", () => {
    expect(createAwsLinks(() => "cn-north-1").job?.("0a1b")).toBe(
      "https://console.amazonaws.cn/batch/home?region=cn-north-1#jobs/detail/0a1b",
    );
    expect(createAwsLinks(() => "us-gov-west-1").job?.("0a1b")).toBe(
      "https://console.amazonaws-us-gov.com/batch/home?region=us-gov-west-1#jobs/detail/0a1b",
    );
    const arn = "arn:aws-cn:batch:cn-northwest-1:123456789012:job-definition/etl:3";
    expect(links.jobDefinition?.(arn)).toBe(`https://console.amazonaws.cn/batch/home?region=cn-northwest-1#job-definition/detail/${arn}`);
    const repository = { name: "etl", uri: "123456789012.dkr.ecr.us-gov-east-1.amazonaws.com/etl" };
    expect(links.image?.(repository, "sha256:abc")).toMatch(/^https:\/\/console\.amazonaws-us-gov\.com\/ecr\/.*\?region=us-gov-east-1$/);
    expect(createAwsLinks(() => "cn-north-1").build?.("etl-build:1")).toMatch(/^https:\/\/console\.amazonaws\.cn\/codesuite\//);
  });

  it("links a log stream in its log group, escaped as the CloudWatch console expects", () => {
    expect(links.log?.("/aws/batch/job", "etl/default/5f3c")).toBe(
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Fbatch$252Fjob/log-events/etl$252Fdefault$252F5f3c",
    );
    expect(createAwsLinks(() => "us-gov-west-1").log?.("/aws/batch/job", "s")).toBe(
      "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#logsV2:log-groups/log-group/$252Faws$252Fbatch$252Fjob/log-events/s",
    );
  });
});

describe("a job's log group", () => {
  const job = { jobId: "j", jobName: "n", jobQueue: "q", status: "FAILED" as const, jobDefinition: "d", startedAt: 1 };

  it("is the job's awslogs-group when its log configuration names one", () => {
    const state = toJobState({
      ...job,
      container: { logStreamName: "etl/default/1", logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/etl/jobs" } } },
    });
    expect(state).toMatchObject({ logStreamName: "etl/default/1", logGroupName: "/etl/jobs" });
  });

  it("is Batch's default log group otherwise, and absent without a log stream", () => {
    expect(toJobState({ ...job, container: { logStreamName: "etl/default/1" } }).logGroupName).toBe("/aws/batch/job");
    expect(toJobState({ ...job, container: {} }).logGroupName).toBeUndefined();
  });
});
