import { describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
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
});
