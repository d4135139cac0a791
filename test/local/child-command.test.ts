import { describe, expect, it } from "vitest";
import { childLaunch } from "../../src/local/child-command.js";

const body = {
  type: "container" as const,
  platformCapabilities: ["EC2"],
  containerProperties: {
    image: "127.0.0.1:5000/etl@sha256:" + "a".repeat(64),
    command: ["run", "Ref::day", "Ref::missing"],
    environment: [{ name: "MODE", value: "definition" }, { name: "KEEP", value: "1" }],
  },
  parameters: { day: "today" },
  retryStrategy: { attempts: 3 },
  timeout: { attemptDurationSeconds: 90 },
};

describe("childLaunch", () => {
  it("substitutes parameters, layers the environment and sets the AWS_BATCH_* variables", () => {
    const launch = childLaunch(
      body,
      { parameters: { day: "2024-01-01" }, environment: { MODE: "canary" } },
      { jobId: "job", arrayIndex: 2, attempt: 1, jobQueue: "local" },
    );
    expect(launch.command).toEqual(["run", "2024-01-01", "Ref::missing"]);
    expect(launch.environment).toMatchObject({
      MODE: "canary",
      KEEP: "1",
      AWS_BATCH_JOB_ID: "job:2",
      AWS_BATCH_JOB_ARRAY_INDEX: "2",
      AWS_BATCH_JOB_ATTEMPT: "1",
      AWS_BATCH_JQ_NAME: "local",
    });
    expect(launch.attempts).toBe(3);
    expect(launch.attemptTimeoutMs).toBe(90_000);
  });

  it("sets no array index for a single job and refuses the reserved AWS_BATCH_ prefix", () => {
    const single = childLaunch(body, { parameters: {}, environment: {} }, { jobId: "job", arrayIndex: undefined, attempt: 2, jobQueue: "q" });
    expect(single.environment["AWS_BATCH_JOB_ID"]).toBe("job");
    expect(single.environment).not.toHaveProperty("AWS_BATCH_JOB_ARRAY_INDEX");
    expect(() =>
      childLaunch(body, { parameters: {}, environment: { AWS_BATCH_JOB_ID: "x" } }, { jobId: "j", arrayIndex: 0, attempt: 1, jobQueue: "q" }),
    ).toThrow(expect.objectContaining({ code: "SPEC_INVALID" }));
  });
});

describe("childLaunch resources", () => {
  const withContainer = (extra: Record<string, unknown>) => ({ ...body, containerProperties: { ...body.containerProperties, ...extra } });
  const launch = (extra: Record<string, unknown>) =>
    childLaunch(withContainer(extra), { parameters: {}, environment: {} }, { jobId: "job", arrayIndex: 0, attempt: 1, jobQueue: "q" });

  it("reads vCPUs and memory from resourceRequirements over the older vcpus and memory", () => {
    expect(launch({}).resources).toEqual({});
    expect(launch({ vcpus: 2, memory: 512 }).resources).toEqual({ vcpus: 2, memoryMiB: 512 });
    const both = launch({ vcpus: 2, memory: 512, resourceRequirements: [{ type: "VCPU", value: "0.5" }, { type: "MEMORY", value: "2048" }, { type: "GPU", value: "1" }] });
    expect(both.resources).toEqual({ vcpus: 0.5, memoryMiB: 2048 });
  });

  it("refuses a limit that is not a positive number", () => {
    expect(() => launch({ resourceRequirements: [{ type: "MEMORY", value: "lots" }] })).toThrow(/MEMORY resource requirement must be a positive number/);
    expect(() => launch({ vcpus: 0 })).toThrow(/containerProperties\.vcpus must be a positive number/);
  });
});
