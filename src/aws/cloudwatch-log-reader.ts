import { CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import type { LogReader } from "../release/ports.js";
import { awsCall, awsErrorName } from "./errors.js";
import { DEFAULT_BATCH_LOG_GROUP } from "./links.js";

/**
 * A Batch job's output, read from its CloudWatch Logs stream with GetLogEvents from the head.
 * The token is the answer's nextForwardToken, which AWS returns unchanged at the end of the
 * stream (pages may be empty before that).
 */
export function createCloudWatchLogReader(logs: CloudWatchLogsClient): LogReader {
  return {
    async readLogs(job, options = {}) {
      const unchanged = { events: [], nextToken: options.nextToken ?? "" };
      // A container that never started has no stream yet.
      if (job.logStreamName === undefined) return unchanged;
      const logGroupName = job.logGroupName ?? DEFAULT_BATCH_LOG_GROUP;
      const logStreamName = job.logStreamName;
      try {
        const page = await awsCall(`read log stream ${logStreamName} (log group ${logGroupName}) of job ${job.jobId}`, () =>
          logs.send(
            new GetLogEventsCommand({
              logGroupName,
              logStreamName,
              startFromHead: true,
              ...(options.nextToken === undefined || options.nextToken === "" ? {} : { nextToken: options.nextToken }),
            }),
          ),
        );
        return {
          events: (page.events ?? []).map((event) => ({ timestamp: event.timestamp ?? 0, message: event.message ?? "" })),
          nextToken: page.nextForwardToken ?? options.nextToken ?? "",
        };
      } catch (error) {
        // Batch names the stream when the container starts; the stream itself appears with its first line.
        if (awsErrorName(error) === "ResourceNotFoundException") return unchanged;
        throw error;
      }
    },
  };
}
