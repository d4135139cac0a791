import { spawn } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";

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
  /**
   * Called once the process has started, with a function that kills its whole process group and
   * the group as a later process can find it again (undefined where that cannot be told).
   */
  onStart?: (started: { kill: () => void; group: ProcessGroup | undefined }) => void;
}

/** A command's process group, recorded so that another process can end it after this one died. */
export interface ProcessGroup {
  /** The group's id: the pid of the command that leads it. */
  pgid: number;
  /** When that leader started (boot and clock ticks): a reused pid has another. */
  started: string;
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
    if (child.pid !== undefined) {
      const started = processStart(child.pid);
      options.onStart?.({ kill: () => killGroup(), group: started === undefined ? undefined : { pgid: child.pid, started } });
    }

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

/**
 * Kills a process group that a batchship process which has since died left running (its
 * commands run `detached`, so a kill -9 of batchship does not end them). Only while the group's
 * leader is still the very process recorded: once the leader is gone its pid, and with it the
 * group id, may belong to someone else's processes (after a container restart, pids start from 1
 * again). A group whose leader died but whose other members run on is left alone for that reason.
 * True when a kill was sent.
 */
export function killOrphanedGroup(group: ProcessGroup): boolean {
  if (processStart(group.pgid) !== group.started) return false;
  try {
    process.kill(-group.pgid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

let bootId: string | undefined;

/**
 * When a process started, from Linux's /proc: the boot's id and the clock tick it started at.
 * undefined elsewhere, or when the process is gone.
 */
export function processStart(pid: number): string | undefined {
  try {
    bootId ??= readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // starttime is field 22 of the whole line; the rest starts at field 3 (state).
    const ticks = fields[22 - 3];
    return ticks === undefined || !/^\d+$/.test(ticks) ? undefined : `${bootId}/${ticks}`;
  } catch {
    return undefined;
  }
}
