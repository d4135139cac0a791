import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelease } from "../../src/release/run-release.js";
import { PipelineSpec } from "../../src/spec/schema.js";
import { randomSha, startEngineHarness, type EngineHarness } from "./harness.js";

const QUEUES = ["fargate", "ecs", "eks", "nodes", "fair"];

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness(QUEUES);
});
afterAll(async () => h?.close());

const SIDECAR = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable";

function spec(name: string, jobDefinition: Record<string, unknown>, canary: Record<string, unknown> = {}) {
  return PipelineSpec.parse({
    apiVersion: "batchship/v1",
    name,
    source: { repository: `acme/${name}` },
    image: { repository: name },
    build: { project: "etl-image" },
    jobDefinition: { name, ...jobDefinition },
    canary: { jobQueue: name, arraySize: 2, ...canary },
  });
}

/** What SubmitJob was sent for the release's canary. */
function submitted(queue: string) {
  const calls = h.emulator.calls.filter((c) => c.operation === "SubmitJob" && c.input.jobQueue === queue && c.forwarded);
  expect(calls).toHaveLength(1);
  return calls[0]?.input;
}

async function releaseAndRead(s: PipelineSpec) {
  const { ctx } = h.engine();
  const result = await runRelease(ctx, { spec: s, commit: randomSha(), branch: "main" });
  expect(result.error).toBeUndefined();
  expect(result.status).toBe("promoted");
  const [candidate] = await ctx.backend.platform.listJobDefinitionRevisions(`${s.jobDefinition.name}-canary`);
  const [production] = await ctx.backend.platform.listJobDefinitionRevisions(s.jobDefinition.name);
  const image = result.image?.uri ?? "";
  expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
  return { result, candidate, production, image };
}

describe("releases of each kind of job definition", () => {
  it("containerProperties on Fargate: the body is the spec with the pinned image", async () => {
    const containerProperties = {
      command: ["etl"],
      executionRoleArn: "arn:aws:iam::123456789012:role/exec",
      resourceRequirements: [{ type: "VCPU", value: "0.5" }, { type: "MEMORY", value: "2048" }],
      networkConfiguration: { assignPublicIp: "DISABLED" },
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" },
      // Written out: Batch describes a Fargate definition with it even when it was left out.
      fargatePlatformConfiguration: { platformVersion: "LATEST" },
    };
    const s = spec("fargate", { platformCapabilities: ["FARGATE"], containerProperties, timeout: { attemptDurationSeconds: 600 } });

    const { candidate, production, image } = await releaseAndRead(s);

    expect(candidate?.body).toEqual({
      type: "container",
      platformCapabilities: ["FARGATE"],
      containerProperties: { ...containerProperties, image },
      timeout: { attemptDurationSeconds: 600 },
    });
    expect(production?.body).toEqual(candidate?.body);
    expect(submitted("fargate").arrayProperties).toEqual({ size: 2 });
  });

  it("ecsProperties: the container without an image runs the build, the sidecar keeps its own; the canary is an array job", async () => {
    const s = spec("ecs", {
      ecsProperties: {
        taskProperties: [
          {
            containers: [
              { name: "app", command: ["etl", "Ref::day"], resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "2048" }] },
              { name: "log-router", image: SIDECAR, essential: false, firelensConfiguration: { type: "fluentbit" } },
            ],
          },
        ],
      },
      parameters: { day: "today" },
    }, { environment: { DRY_RUN: "1" } });

    const { candidate, production, image } = await releaseAndRead(s);

    const containers = [
      { name: "app", image, command: ["etl", "Ref::day"], resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "2048" }] },
      { name: "log-router", image: SIDECAR, essential: false, firelensConfiguration: { type: "fluentbit" } },
    ];
    expect(candidate?.body).toEqual({ type: "container", platformCapabilities: ["EC2"], ecsProperties: { taskProperties: [{ containers }] }, parameters: { day: "today" } });
    expect(production?.body).toEqual(candidate?.body);
    const input = submitted("ecs");
    expect(input.arrayProperties).toEqual({ size: 2 });
    expect(input.containerOverrides).toBeUndefined();
    expect(input.ecsPropertiesOverride).toEqual({
      taskProperties: [{ containers: [{ name: "app", environment: [{ name: "DRY_RUN", value: "1" }] }, { name: "log-router", environment: [{ name: "DRY_RUN", value: "1" }] }] }],
    });
  });

  it("eksProperties: the pod runs the build, with no platform capabilities", async () => {
    const s = spec("eks", {
      eksProperties: {
        podProperties: {
          serviceAccountName: "etl",
          containers: [{ name: "app", command: ["etl"], resources: { limits: { cpu: "1", memory: "2048Mi" } } }],
        },
      },
    }, { environment: { DRY_RUN: "1" } });

    const { candidate, production, image } = await releaseAndRead(s);

    expect(candidate?.body).toEqual({
      type: "container",
      eksProperties: { podProperties: { serviceAccountName: "etl", containers: [{ name: "app", image, command: ["etl"], resources: { limits: { cpu: "1", memory: "2048Mi" } } }] } },
    });
    expect(production?.body).toEqual(candidate?.body);
    expect(submitted("eks").eksPropertiesOverride).toEqual({ podProperties: { containers: [{ name: "app", env: [{ name: "DRY_RUN", value: "1" }] }] } });
  });

  it("nodeProperties: every node range without an image runs the build; the canary is one job, not an array", async () => {
    const s = spec("nodes", {
      nodeProperties: {
        numNodes: 3,
        mainNode: 0,
        nodeRangeProperties: [
          { targetNodes: "0", container: { command: ["coordinator"], resourceRequirements: [{ type: "VCPU", value: "2" }, { type: "MEMORY", value: "4096" }] } },
          { targetNodes: "1:", container: { command: ["worker"], instanceType: "c5.large", resourceRequirements: [{ type: "VCPU", value: "2" }, { type: "MEMORY", value: "4096" }] } },
        ],
      },
    }, { arraySize: 1, environment: { DRY_RUN: "1" } });

    const { candidate, production, image, result } = await releaseAndRead(s);

    const requirements = [{ type: "VCPU", value: "2" }, { type: "MEMORY", value: "4096" }];
    expect(candidate?.body).toEqual({
      type: "multinode",
      platformCapabilities: ["EC2"],
      nodeProperties: {
        numNodes: 3,
        mainNode: 0,
        nodeRangeProperties: [
          { targetNodes: "0", container: { image, command: ["coordinator"], resourceRequirements: requirements } },
          { targetNodes: "1:", container: { image, command: ["worker"], instanceType: "c5.large", resourceRequirements: requirements } },
        ],
      },
    });
    expect(production?.body).toEqual(candidate?.body);
    const input = submitted("nodes");
    expect(input.arrayProperties).toBeUndefined();
    expect(input.containerOverrides).toBeUndefined();
    expect(input.nodeOverrides).toEqual({
      nodePropertyOverrides: [
        { targetNodes: "0", containerOverrides: { environment: [{ name: "DRY_RUN", value: "1" }] } },
        { targetNodes: "1:", containerOverrides: { environment: [{ name: "DRY_RUN", value: "1" }] } },
      ],
    });
    expect(result.canary?.summary).toMatchObject({ SUCCEEDED: 1 });
  });

  it("a fair-share queue gets the share, the priority, the parameters and tags for the tasks", async () => {
    const s = spec("fair", {
      containerProperties: { command: ["etl", "Ref::day"], resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "2048" }] },
      parameters: { day: "today" },
      tags: { team: "data" },
      schedulingPriority: 50,
    }, { shareIdentifier: "etl_canary", schedulingPriorityOverride: 90, propagateTags: true, parameters: { day: "yesterday" } });

    const { candidate } = await releaseAndRead(s);

    expect(candidate?.body.schedulingPriority).toBe(50);
    const input = submitted("fair");
    expect(input).toMatchObject({ shareIdentifier: "etl_canary", schedulingPriorityOverride: 90, propagateTags: true, parameters: { day: "yesterday" } });
    expect(input.tags).toMatchObject({ team: "data", "batchship:pipeline": "fair" });
  });
});
