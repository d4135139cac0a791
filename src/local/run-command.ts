import { spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";

export interface CommandOutcome {
  /** Exit code; undefined when the process was killed by a signal or never started. */
  code: number | undefined;
  signal: NodeJS.Signals | undefined;
  /** The command was killed because it ran past `timeoutMs`. */
  timedOut: boolean;
  /** The executable was not found. */
  missing: boolean;
  /**
   * The last lines of stdout and stderr together, for error messages. When the log file could
   * not be written, the last line says so.
   */
  tail: string[];
  stdout: string;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /**
   * Appends everything the command prints here. A log that cannot be written (a full disk, a
   * missing directory, no file descriptors left) loses the rest of the log, never the command.
   */
  logFile?: string;
  /** Lines kept for `tail`. */
  tailLines?: number;
  signal?: AbortSignal;
  /** Called once the process has started, with a function that kills its whole process group. */
  onStart?: (kill: () => void) => void;
}

const STDOUT_LIMIT = 1_000_000;

/**
 * Runs one external command as argv (never through a shell) in its own process group, so a
 * timeout or a stop kills what it started too (buildah's chroot child, a shell's children).
 * Never rejects: the outcome says how it ended.
 */
export function runCommand(file: string, args: readonly string[], options: RunOptions): Promise<CommandOutcome> {
  for (const arg of [file, ...args]) {
    if (arg.includes("\0")) throw new Error(`Refusing to run ${file}: an argument contains a NUL byte`);
  }
  return new Promise((resolvePromise) => {
    const keep = options.tailLines ?? 20;
    const lines: string[] = [];
    // Per stream: a line is only whole when its own stream ends it.
    const partial = { stdout: "", stderr: "" };
    let stdout = "";
    let timedOut = false;
    let log: WriteStream | undefined;
    let logFailure: string | undefined;
    let logClosed: Promise<void> = Promise.resolve();
    if (options.logFile !== undefined) {
      const logFile = options.logFile;
      const stream = createWriteStream(logFile, { flags: "a" });
      logClosed = new Promise((resolveClosed) => stream.once("close", () => resolveClosed()));
      // Without a listener, a failed open or write would be an uncaught exception that ends the
      // whole process (a release, or the service with every release it runs).
      stream.on("error", (error: Error) => {
        logFailure ??= `batchship: could not write the log ${logFile}: ${error.message}`;
        log = undefined;
        stream.destroy();
      });
      log = stream;
    }
    const child = spawn(file, [...args], {
      env: options.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const killGroup = (evenAfterExit = false) => {
      if (child.pid === undefined || (!evenAfterExit && child.exitCode !== null)) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const collect = (chunk: Buffer, stream: "stdout" | "stderr") => {
      log?.write(chunk);
      const text = chunk.toString("utf8");
      if (stream === "stdout" && stdout.length < STDOUT_LIMIT) stdout += text;
      const parts = (partial[stream] + text).split("\n");
      partial[stream] = parts.pop() ?? "";
      lines.push(...parts.filter((line) => line.trim() !== ""));
      if (lines.length > keep) lines.splice(0, lines.length - keep);
    };
    child.stdout.on("data", (chunk: Buffer) => collect(chunk, "stdout"));
    child.stderr.on("data", (chunk: Buffer) => collect(chunk, "stderr"));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs);
    const onAbort = () => killGroup();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (child.pid !== undefined) options.onStart?.(() => killGroup());

    let settled = false;
    const finish = (outcome: Omit<CommandOutcome, "tail" | "stdout" | "timedOut">) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      for (const rest of [partial.stdout, partial.stderr]) if (rest.trim() !== "") lines.push(rest);
      log?.end();
      // 'close' comes after the last write, or after the error that stopped the log.
      void logClosed.then(() => {
        if (logFailure !== undefined) lines.push(logFailure);
        resolvePromise({ ...outcome, timedOut, tail: lines.slice(-keep), stdout });
      });
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") finish({ code: undefined, signal: undefined, missing: true });
      else {
        lines.push(error.message);
        finish({ code: undefined, signal: undefined, missing: false });
      }
    });
    child.on("close", (code, signal) => {
      // The group may still hold processes the leader left behind, as a container's would be.
      killGroup(true);
      finish({ code: code ?? undefined, signal: signal ?? undefined, missing: false });
    });
  });
}
