import { z } from "zod";
import type { Change } from "../release/change-feed.js";

/**
 * The EventBridge events an SQS queue receives from the rules infra/batchship-pipeline.yml makes,
 * as documented ("Batch Job State Change", "CodeBuild Build State Change"). Only the fields
 * batchship reads are checked; AWS may add others.
 */
const batchJobEvent = z.object({
  source: z.literal("aws.batch"),
  "detail-type": z.literal("Batch Job State Change"),
  detail: z.object({ jobId: z.string().min(1).max(256), status: z.string().min(1).max(64) }),
});
const codebuildEvent = z.object({
  source: z.literal("aws.codebuild"),
  "detail-type": z.literal("CodeBuild Build State Change"),
  detail: z.object({ "build-id": z.string().min(1).max(1024), "build-status": z.string().min(1).max(64) }),
});

const eventEnvelope = z.object({ source: z.string(), "detail-type": z.string() });

const JOB_END = new Set(["SUCCEEDED", "FAILED"]);

export type ParsedEvent =
  | { kind: "job" | "build"; change: Change }
  /** Valid JSON of another event type (the rule was widened, a test message): not ours. */
  | { kind: "ignored" }
  /** Not an event at all: logged and dropped. */
  | { kind: "malformed"; reason: string };

/**
 * One message body. An array child (`<id>:<n>`) is reported as a change of its parent, which is
 * what the engine follows; its end is not the parent's. A build is named by ARN in the event and
 * by `<project>:<uuid>` in the API.
 */
export function parseChangeEvent(body: string): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: "malformed", reason: "the message body is not JSON" };
  }
  const envelope = eventEnvelope.safeParse(json);
  if (!envelope.success) return { kind: "malformed", reason: "the message is not an EventBridge event" };
  const type = `${envelope.data.source} ${envelope.data["detail-type"]}`;
  if (type === "aws.batch Batch Job State Change") {
    const job = batchJobEvent.safeParse(json);
    if (!job.success) return { kind: "malformed", reason: "a Batch Job State Change event without a valid detail.jobId and detail.status" };
    const [parent = "", child] = job.data.detail.jobId.split(":");
    const ended = child === undefined && JOB_END.has(job.data.detail.status);
    return { kind: "job", change: { subject: { kind: "job", id: parent }, ended } };
  }
  if (type === "aws.codebuild CodeBuild Build State Change") {
    const build = codebuildEvent.safeParse(json);
    if (!build.success) return { kind: "malformed", reason: "a CodeBuild Build State Change event without a valid detail.build-id and detail.build-status" };
    const id = build.data.detail["build-id"].replace(/^arn:[^:]+:codebuild:[^:]*:[^:]*:build\//, "");
    return { kind: "build", change: { subject: { kind: "build", id }, ended: build.data.detail["build-status"] !== "IN_PROGRESS" } };
  }
  return { kind: "ignored" };
}
