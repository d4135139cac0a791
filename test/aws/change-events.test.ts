import { describe, expect, it } from "vitest";
import { parseChangeEvent } from "../../src/aws/change-events.js";

// The examples of the AWS Batch and CodeBuild user guides, trimmed to what matters and kept as
// delivered (the rule's SQS target gets the event JSON as the message body).
const batchEvent = (jobId: string, status: string) =>
  JSON.stringify({
    version: "0",
    id: "c8f9c4b5-76e5-d76a-f980-7011e206042b",
    "detail-type": "Batch Job State Change",
    source: "aws.batch",
    account: "123456789012",
    time: "2022-01-11T23:36:40Z",
    region: "us-east-1",
    resources: [`arn:aws:batch:us-east-1:123456789012:job/${jobId}`],
    detail: { jobArn: `arn:aws:batch:us-east-1:123456789012:job/${jobId}`, jobName: "event-test", jobId, jobQueue: "arn:aws:batch:us-east-1:123456789012:job-queue/canary", status, attempts: [], createdAt: 1641944200058, somethingNew: { x: 1 } },
  });
const buildEvent = (status: string) =>
  JSON.stringify({
    version: "0",
    id: "bfdc1220-60ff-44ae-9f50-4b4bdd9a9b2f",
    "detail-type": "CodeBuild Build State Change",
    source: "aws.codebuild",
    account: "123456789012",
    time: "2017-09-01T16:14:28Z",
    region: "us-west-2",
    resources: ["arn:aws:codebuild:us-west-2:123456789012:build/my-sample-project:8745a7a9-c340-456a-9166-edf953571bEX"],
    detail: {
      "build-status": status,
      "project-name": "my-sample-project",
      "build-id": "arn:aws:codebuild:us-west-2:123456789012:build/my-sample-project:8745a7a9-c340-456a-9166-edf953571bEX",
      "current-phase": "COMPLETED",
      "current-phase-context": "[]",
      version: "1",
    },
  });

describe("parseChangeEvent", () => {
  it("reads a Batch job's end, and a child's change as a change (not the end) of its parent", () => {
    expect(parseChangeEvent(batchEvent("4c7599ae", "SUCCEEDED"))).toEqual({ kind: "job", change: { subject: { kind: "job", id: "4c7599ae" }, ended: true } });
    expect(parseChangeEvent(batchEvent("4c7599ae", "RUNNABLE"))).toEqual({ kind: "job", change: { subject: { kind: "job", id: "4c7599ae" }, ended: false } });
    expect(parseChangeEvent(batchEvent("4c7599ae:7", "FAILED"))).toEqual({ kind: "job", change: { subject: { kind: "job", id: "4c7599ae" }, ended: false } });
  });

  it("reads a CodeBuild build by the id the API uses, not the event's ARN", () => {
    expect(parseChangeEvent(buildEvent("FAILED"))).toEqual({
      kind: "build",
      change: { subject: { kind: "build", id: "my-sample-project:8745a7a9-c340-456a-9166-edf953571bEX" }, ended: true },
    });
    expect(parseChangeEvent(buildEvent("IN_PROGRESS"))).toMatchObject({ change: { ended: false } });
  });

  it("tells garbage from events of other kinds", () => {
    expect(parseChangeEvent("")).toEqual({ kind: "malformed", reason: "the message body is not JSON" });
    expect(parseChangeEvent("[1,2]")).toMatchObject({ kind: "malformed" });
    expect(parseChangeEvent(JSON.stringify({ source: "aws.batch", "detail-type": "Batch Job State Change", detail: { jobId: "x".repeat(300), status: "RUNNING" } }))).toMatchObject({ kind: "malformed" });
    expect(parseChangeEvent(JSON.stringify({ source: "aws.ecs", "detail-type": "ECS Task State Change", detail: {} }))).toEqual({ kind: "ignored" });
  });
});
