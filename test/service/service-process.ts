import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/batchship.js", import.meta.url));

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: Array<Record<string, unknown>>;
  /** Raw stdout and stderr, for assertions on what never appears. */
  output(): string;
  /** Resolves with the exit code (null after a signal) once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** The built binary, `batchship serve --port 0 …`, as a real child process; resolves once it listens. */
export async function startServiceProcess(args: string[], env: Record<string, string>): Promise<ServiceProcess> {
  const spawned = spawnServiceProcess(args, env);
  const listening = await spawned.waitForLog((l) => l.msg === "service listening");
  return { ...spawned, url: `http://127.0.0.1:${String(listening.port)}` };
}

/** The same child process, without waiting for it to listen: for a service expected to stop at startup. */
export function spawnServiceProcess(args: string[], env: Record<string, string>): Omit<ServiceProcess, "url"> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--host", "127.0.0.1", ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Array<Record<string, unknown>> = [];
  let raw = "";
  let pending = "";
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    raw += chunk;
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    raw += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    }),
  );
  let ended = false;
  void exited.then(() => (ended = true));

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = (): boolean => {
        const found = logs.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
          return true;
        }
        if (ended) {
          cleanup();
          reject(new Error(`service exited before the expected log line:\n${raw.slice(-3000)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a log line:\n${raw.slice(-3000)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      const wake = (): void => void check();
      waiters.add(wake);
      check();
    });

  return { child, logs, output: () => raw, exited, waitForLog };
}

export async function stopGracefully(service: ServiceProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  service.child.kill("SIGTERM");
  return service.exited;
}

export async function killHard(service: ServiceProcess): Promise<void> {
  service.child.kill("SIGKILL");
  await service.exited;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
