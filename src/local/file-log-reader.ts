import { open, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import { BatchshipError } from "../errors.js";
import type { LogReader } from "../release/ports.js";

/** At most this much of a log file per page, so a huge output is read (and printed) in steps. */
const PAGE_BYTES = 256 * 1024;

/**
 * A local child's output: the file its attempt writes (its `logStreamName`), under `logsDir`.
 * The token is the byte offset read up to, so it comes back unchanged at the end of the file,
 * as CloudWatch's does. Only whole lines are returned while the child runs; its last,
 * unterminated line once it has ended. A file has no time per line: each gets the file's mtime.
 */
export function createFileLogReader(logsDir: string): LogReader {
  const root = resolve(logsDir);
  return {
    async readLogs(job, options = {}) {
      const offset = parseOffset(options.nextToken);
      const unchanged = { events: [], nextToken: String(offset) };
      if (job.logStreamName === undefined) return unchanged;
      const path = resolve(job.logStreamName);
      const inside = relative(root, path);
      // The path comes from the local store; still, nothing outside the logs folder is read.
      if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
        throw new BatchshipError("ENVIRONMENT", `Could not read the output of job ${job.jobId}: ${path} is not in ${root}`);
      }
      let handle;
      try {
        handle = await open(path, "r");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return unchanged;
        throw new BatchshipError("ENVIRONMENT", `Could not read the output of job ${job.jobId} (${path}): ${(error as Error).message}`, { cause: error });
      }
      try {
        const { mtimeMs } = await stat(path);
        const buffer = Buffer.alloc(PAGE_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, PAGE_BYTES, offset);
        let text = buffer.subarray(0, bytesRead).toString("utf8");
        const ended = job.status === "SUCCEEDED" || job.status === "FAILED";
        // A partial last line waits for its end while the child runs (a page full of one line does not).
        if (!ended && bytesRead < PAGE_BYTES) text = text.slice(0, text.lastIndexOf("\n") + 1);
        const consumed = Buffer.byteLength(text, "utf8");
        const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text === "" ? [] : text.split("\n");
        return {
          events: lines.map((message) => ({ timestamp: Math.floor(mtimeMs), message: message.replace(/\r$/, "") })),
          nextToken: String(offset + consumed),
        };
      } finally {
        await handle.close();
      }
    },
  };
}

function parseOffset(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  const offset = Number(token);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new BatchshipError("USAGE", `Could not read a local job's output: ${JSON.stringify(token)} is not a position in it`);
  }
  return offset;
}
