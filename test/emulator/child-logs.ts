import { motoJsonCall } from "./moto-client.js";
import type { Interceptors } from "./interceptor.js";
import { isOk, replyJson, withJsonBody } from "./reply.js";

/** Batch's log group for jobs without an awslogs-group of their own. */
export const BATCH_LOG_GROUP = "/aws/batch/job";
/** The token the layer hands out for a first page it answers empty. */
const HEAD_TOKEN = "layer/head";
/** Events per GetLogEvents page, so readers must page. */
const PAGE_LIMIT = 2;

/**
 * What a job's container "prints", written into moto's CloudWatch Logs as Batch's awslogs driver
 * would: moto runs no containers, and names a log stream (`<job definition>/default/<job id>`)
 * without creating it. A started child gets a first line; an ended one its last (exit code and
 * reason), timed when DescribeJobs first shows the child in that state, and written into moto
 * when the stream is read (tests that never read logs pay nothing).
 */
export class ChildLogs {
  private readonly seen = new Map<string, "started" | "ended">();
  /** Lines not yet in moto, per stream: written when someone reads the stream. */
  private readonly pending = new Map<string, { group: string; lines: Array<{ timestamp: number; message: string }> }>();

  constructor(private readonly motoEndpoint: string) {}

  /** A job as DescribeJobs shows it: its container's output so far. Costs nothing until read. */
  observe(detail: any): void {
    const stream = detail?.container?.logStreamName;
    if (typeof stream !== "string" || stream === "") return;
    const group = detail.container?.logConfiguration?.options?.["awslogs-group"] ?? BATCH_LOG_GROUP;
    const ended = detail.status === "SUCCEEDED" || detail.status === "FAILED";
    const seen = this.seen.get(stream);
    if (seen === "ended" || (seen === "started" && !ended)) return;
    const index = detail.arrayProperties?.index ?? 0;
    const entry = this.pending.get(stream) ?? { group, lines: [] as Array<{ timestamp: number; message: string }> };
    const now = Date.now();
    if (seen === undefined) entry.lines.push({ timestamp: now, message: `child ${index} started` });
    if (ended) {
      const exitCode = detail.container?.exitCode;
      entry.lines.push({
        timestamp: now + 1,
        message:
          detail.status === "FAILED"
            ? `child ${index} failed: ${detail.statusReason ?? "no reason"} (exit code ${exitCode ?? "none"})`
            : `child ${index} done (exit code ${exitCode ?? 0})`,
      });
    }
    this.seen.set(stream, ended ? "ended" : "started");
    this.pending.set(stream, entry);
  }

  /** Writes the stream's pending lines into moto, creating its group and stream as the awslogs driver does. */
  async flush(stream: string): Promise<void> {
    const entry = this.pending.get(stream);
    if (entry === undefined || entry.lines.length === 0) return;
    this.pending.delete(stream);
    await this.call("CreateLogGroup", { logGroupName: entry.group }, "ResourceAlreadyExistsException");
    await this.call("CreateLogStream", { logGroupName: entry.group, logStreamName: stream }, "ResourceAlreadyExistsException");
    await this.call("PutLogEvents", { logGroupName: entry.group, logStreamName: stream, logEvents: entry.lines });
  }

  private async call(operation: string, input: unknown, tolerated?: string): Promise<void> {
    const answer = await motoJsonCall(this.motoEndpoint, "logs", operation, input);
    if (answer.status >= 300 && !(tolerated !== undefined && answer.text.includes(tolerated))) {
      throw new Error(`emulator: ${operation} in moto failed: ${answer.status} ${answer.text}`);
    }
  }
}

/**
 * GetLogEvents as strict as CloudWatch Logs: a page may be empty while the stream holds more
 * (the first page the layer answers always is, with a token of its own), pages are small, and
 * at the end of the stream the same nextForwardToken comes back. A reader that stops on an empty
 * page, or never pages, misses output.
 */
export function logsInterceptors(childLogs: ChildLogs): Interceptors {
  return {
    "logs.GetLogEvents": async ({ call, forward }) => {
      const { nextToken, limit, ...rest } = call.input;
      if (typeof rest.logStreamName === "string") await childLogs.flush(rest.logStreamName);
      const pageLimit = Math.min(typeof limit === "number" && limit > 0 ? limit : PAGE_LIMIT, PAGE_LIMIT);
      if (nextToken === undefined) {
        // The stream must exist (ResourceNotFoundException otherwise): ask moto, show nothing yet.
        const probe = await forward({ ...rest, limit: 1 });
        if (!isOk(probe)) return probe;
        return withJsonBody(probe, { events: [], nextForwardToken: HEAD_TOKEN, nextBackwardToken: HEAD_TOKEN });
      }
      const reply = await forward({ ...rest, limit: pageLimit, ...(nextToken === HEAD_TOKEN ? {} : { nextToken }) });
      const body = replyJson(reply);
      if (!isOk(reply) || body === undefined) return reply;
      // moto answers a start with no events like any page; AWS gives the token passed in back at the end.
      if (nextToken === HEAD_TOKEN && (body.events ?? []).length === 0) return withJsonBody(reply, { ...body, nextForwardToken: HEAD_TOKEN });
      return reply;
    },
  };
}
